"""The statement's sender: the [team] table of the policy file (billing/team.py)."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from billing.policy import DEFAULT_POLICY_PATH, PolicyError, load_policy
from billing.team import Team, TeamError, load_team

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>'


def _image(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 4), (30, 60, 90)).save(buf, format=fmt)
    return buf.getvalue()


def _policy(tmp_path, team: str, files: dict[str, bytes] | None = None):
    for name, data in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    path = tmp_path / "billing.toml"
    path.write_text('timezone = "UTC"\n\n[team]\n' + team, encoding="utf-8")
    return path


def test_the_projects_billing_toml_names_the_demo_team_with_its_logo():
    team = load_team()
    assert team.name == "Northwind Tech Support"
    assert team.address == ("12 Harbour Street", "Portland, ME 04101", "United States")
    assert team.contact_lines()[-2:] == ["support@northwind.example", "+1 207 555 0142"]
    assert team.logo_kind == "svg" and team.logo == (DEFAULT_POLICY_PATH.parent / "static" /
                                                     "demo-team-logo.svg").read_bytes()
    load_policy()   # the billing settings still load beside [team]


def test_a_policy_file_without_team_gives_no_team(tmp_path):
    path = tmp_path / "billing.toml"
    path.write_text('timezone = "UTC"\n')
    assert load_team(path) is None


@pytest.mark.parametrize("name, fmt, kind", [("logo.png", "PNG", "png"), ("img/logo.jpg", "JPEG", "jpeg"),
                                             ("logo.JPEG", "JPEG", "jpeg")])
def test_a_bitmap_logo_relative_to_the_policy_file(tmp_path, name, fmt, kind):
    data = _image(fmt)
    path = _policy(tmp_path, f'name = "Ops"\nlogo = "{name}"\n', {name: data})
    team = load_team(path)
    assert (team.logo, team.logo_kind, team.logo_path) == (data, kind, name)


def test_an_address_may_be_one_text_with_line_breaks(tmp_path):
    path = _policy(tmp_path, 'name = "Ops"\naddress = """\n1 Main St\n\nSpringfield\n"""\nphone = "(555) 010-7788"\n')
    team = load_team(path)
    assert team.address == ("1 Main St", "Springfield") and team.contact_lines() == [
        "1 Main St", "Springfield", "(555) 010-7788"]


def test_the_key_changes_with_the_logo_content(tmp_path):
    path = _policy(tmp_path, 'name = "Ops"\nlogo = "l.svg"\n', {"l.svg": SVG})
    first = load_team(path).key()
    (tmp_path / "l.svg").write_bytes(SVG.replace(b'width="10"', b'width="5"'))
    assert load_team(path).key() != first and isinstance(first, tuple)


@pytest.mark.parametrize("team, files, words", [
    ('name = "Ops"\nfax = "1"\n', {}, ["unknown key 'fax'"]),
    ('email = "a@b.example"\n', {}, ["needs 'name'"]),
    ('name = ""\n', {}, ["'name' is empty"]),
    ('name = 42\n', {}, ["'name' must be text"]),
    ('name = "Ops"\nemail = "support at example"\n', {}, ["'email' must be an e-mail address"]),
    ('name = "Ops"\nphone = "call us"\n', {}, ["'phone' must be a phone number"]),
    ('name = "Ops"\naddress = 12\n', {}, ["'address' must be a list of lines"]),
    ('name = "Ops"\naddress = ["a", 3]\n', {}, ["'address line 2' must be text"]),
    ('name = "Ops"\naddress = ["1","2","3","4","5","6","7"]\n', {}, ["'address' has 7 lines"]),
    ('name = "' + "x" * 121 + '"\n', {}, ["'name' is 121 characters long"]),
    ('name = "Ops"\nlogo = "missing.png"\n', {}, ["'logo' 'missing.png': no such file", "policy file's folder"]),
    ('name = "Ops"\nlogo = "logo.gif"\n', {"logo.gif": b"GIF89a"}, ["'logo' 'logo.gif' must be a .png"]),
    ('name = "Ops"\nlogo = "logo.png"\n', {"logo.png": b"not an image"}, ["not a readable PNG image"]),
    ('name = "Ops"\nlogo = "logo.png"\n', {"logo.png": _image("JPEG")}, ["named .png but holds a JPEG"]),
    ('name = "Ops"\nlogo = "logo.svg"\n', {"logo.svg": b"<svg"}, ["is not an SVG file"]),
    ('name = "Ops"\nlogo = "logo.svg"\n', {"logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>'},
     ["needs a viewBox"]),
    ('name = "Ops"\nlogo = "sub"\n', {"sub/x.txt": b""}, ["must be a .png"]),
    ('name = "Ops"\nlogo = "sub.svg"\n', {"sub.svg/x.txt": b""}, ["is a folder"]),
])
def test_each_bad_value_is_one_sentence_naming_the_file_and_key(tmp_path, team, files, words):
    path = _policy(tmp_path, team, files)
    with pytest.raises(TeamError) as err:
        load_team(path)
    message = str(err.value)
    assert message.startswith(f"{path}: [team]") and "\n" not in message
    for w in words:
        assert w in message
    assert isinstance(err.value, PolicyError)   # callers that catch policy errors catch these


def test_team_as_a_plain_value_is_an_error(tmp_path):
    path = tmp_path / "billing.toml"
    path.write_text('team = "Ops"\n')
    with pytest.raises(TeamError, match="'team' must be a table"):
        load_team(path)


def test_a_team_is_hashable_for_the_cache():
    assert hash(Team("Ops")) == hash(Team("Ops"))
