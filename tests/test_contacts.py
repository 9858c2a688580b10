"""customers.csv's optional contact_email (FORMATS.md): checked at import, read by billing.customers."""
from __future__ import annotations

from billing.addresses import is_address, split_addresses
from billing.customers import customer_contacts, customer_names
from billing.store import open_db
from tests.builders import Ledger, write_csv


def test_addresses_of_the_accepted_form():
    assert is_address("ana@example.com") and is_address(" jürgen@müller.de ") and is_address("o'brien@x.ie")
    for bad in ("ana", "ana@example", "a b@example.com", "ana@@example.com", "ana@example.com;", "", "<a@b.co>"):
        assert not is_address(bad), bad
    assert split_addresses("a@x.com; b@y.org,a@x.com ;") == ["a@x.com", "b@y.org"]
    assert split_addresses(None) == [] and split_addresses("") == []


def test_contact_email_is_optional_checked_and_read(tmp_path):
    led = Ledger(tmp_path)
    folder = tmp_path / "export"
    write_csv(folder / "customers.csv",
              "customer_id,customer_name,contact_email,region\n"
              "acme,Acme Ltd,ops@acme.example; cfo@acme.example,EU\n"
              "beta,Beta GmbH,,EU\n"
              "gamma,Gamma Inc,gamma at example dot com,US\n")
    from billing.load import import_export

    result = import_export(led.db, folder, policy=led.policy)
    assert result.added == 2 and result.rejected == 1
    (reject,) = result.rejects
    assert reject.line == 4 and reject.column == "contact_email" and "gamma at example dot com" in reject.reason
    with open_db(led.db, read_only=True) as con:
        assert customer_contacts(con) == {"acme": ["ops@acme.example", "cfo@acme.example"]}
        assert customer_names(con) == {"acme": "Acme Ltd", "beta": "Beta GmbH"}
        # the column stays with the file's other extra columns, as before Hourbank knew it
        extra = con.execute("SELECT extra FROM customers WHERE customer_id = 'acme'").fetchone()[0]
    assert '"region":"EU"' in extra.replace(" ", "") and "ops@acme.example" in extra


def test_a_customers_file_without_the_column_imports_as_before(tmp_path):
    led = Ledger(tmp_path)
    first = led.load(customers=[{"customer_id": "acme", "customer_name": "Acme Ltd"}])
    again = led.load(customers=[{"customer_id": "acme", "customer_name": "Acme Ltd"}])
    assert (first.added, again.unchanged, again.replaced) == (1, 1, 0)
    with open_db(led.db, read_only=True) as con:
        assert customer_contacts(con) == {}
