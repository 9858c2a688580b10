"""Policy settings (RULES.md): defaults, and an error that names the key."""
import pytest

from billing.policy import Policy, PolicyError, load_policy


def write(tmp_path, text):
    p = tmp_path / "billing.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_missing_keys_take_their_defaults(tmp_path):
    assert load_policy(write(tmp_path, "")) == Policy()
    assert load_policy(write(tmp_path, "rounding_increment_minutes = 15\n")).rounding_increment_minutes == 15


def test_the_project_policy_file_sets_its_timezone():
    assert load_policy().timezone == "America/New_York"


@pytest.mark.parametrize("text, key", [
    ('rounding_increment_minutes = "30"', "rounding_increment_minutes"),
    ("rounding_increment_minutes = 0", "rounding_increment_minutes"),
    ("rounding_increment_minutes = 1.5", "rounding_increment_minutes"),
    ("hours_valid_days = 0", "hours_valid_days"),
    ("expiring_window_days = -1", "expiring_window_days"),
    ("expiring_window_days = true", "expiring_window_days"),
    ('late_cancellation_minutes = "30"', "late_cancellation_minutes"),
    ("no_show_minutes = -1", "no_show_minutes"),
    ("cancellation_notice_hours = nan", "cancellation_notice_hours"),
    ('timezone = "Mars/Olympus"', "timezone"),
    ("timezone = 5", "timezone"),
    ('session_billing = "booked"', "session_billing"),
    ("rounding = 15", "rounding"),
    ("rounding_increment_minutes = ", "not valid TOML"),
])
def test_a_bad_value_or_unknown_key_is_an_error_naming_it(tmp_path, text, key):
    with pytest.raises(PolicyError, match=key):
        load_policy(write(tmp_path, text + "\n"))


def test_fee_and_notice_settings_are_exact_microseconds():
    p = Policy(late_cancellation_minutes=12.5, no_show_minutes=0, cancellation_notice_hours=0.1)
    assert (p.late_fee_us, p.no_show_fee_us, p.notice_us) == (750_000_000, 0, 360_000_000)


def test_fingerprint_changes_with_any_setting():
    assert Policy().fingerprint() != Policy(rounding_increment_minutes=15).fingerprint()
    assert Policy().with_changes(rounding_increment_minutes=15) == Policy(rounding_increment_minutes=15)
