"""The inventory's `websites` list: parsing, defaults, located errors, group_vars precedence."""

from __future__ import annotations

import datetime as _dt

import pytest

from sopctl.errors import InputError, UsageError
from sopctl.inventory import load_inventory
from sopctl.website.config import load_websites, parse_website, parse_websites
from tests.helpers import REPO


def test_defaults_and_relative_urls():
    site = parse_website({"name": "pa", "url": "https://www.pa-batulicin.go.id/", "feed": "/feed"})
    assert site.sitemap == "https://www.pa-batulicin.go.id/sitemap.xml"
    assert site.feed == "https://www.pa-batulicin.go.id/feed"
    assert (site.timeout, site.retries, site.expected_status, site.max_content_age_days) == (10.0, 2, (200,), 30)
    assert (site.hostname, site.port, site.is_https) == ("www.pa-batulicin.go.id", 443, True)
    assert not site.domain_known and not site.hosting_known
    off = parse_website({"name": "pa", "url": "http://x.test:8080/", "sitemap": None, "hosting_expires": None,
                         "domain_expires": "2027-01-15", "expected_status": [200, 301]})
    assert off.sitemap is None and off.port == 8080
    assert (off.hosting_expires, off.hosting_known) == (None, True)
    assert off.domain_expires == _dt.date(2027, 1, 15) and off.expected_status == (200, 301)


@pytest.mark.parametrize("raw, field, message", [
    ({"url": "https://x/"}, "websites[0].name", "is required"),
    ({"name": "a b", "url": "https://x/"}, "websites[0].name", "use letters"),
    ({"name": "a", "url": "ftp://x/"}, "websites[0].url", "http://"),
    ({"name": "a", "url": "https://x/", "timout": 3}, "websites[0].timout", "unknown key"),
    ({"name": "a", "url": "https://x/", "web_root": "/var/www"}, "websites[0].host", "is required"),
    ({"name": "a", "url": "https://x/", "host": "h", "access_log": "logs/a.log"}, "websites[0].access_log",
     "absolute path"),
    ({"name": "a", "url": "https://x/", "domain_expires": "next year"}, "websites[0].domain_expires", "YYYY-MM-DD"),
    ({"name": "a", "url": "https://x/", "expected_status": 999}, "websites[0].expected_status", "HTTP status"),
    ({"name": "a", "url": "https://x/", "timeout": 0}, "websites[0].timeout", "at least"),
    ({"name": "a", "url": "https://x/", "log_format": "json"}, "websites[0].log_format", "combined"),
])
def test_errors_name_the_field(raw, field, message):
    with pytest.raises(InputError) as error:
        parse_websites([raw], "inv.yml")
    assert error.value.field == field and message in str(error.value) and "inv.yml" in str(error.value)


def test_names_are_unique():
    with pytest.raises(InputError, match=r"websites\[1\]\.name: name 'a' is also used by websites\[0\]"):
        parse_websites([{"name": "a", "url": "https://x/"}, {"name": "a", "url": "https://y/"}])


def test_from_inventory_all_vars_and_group_vars_all(tmp_path):
    (tmp_path / "group_vars").mkdir()
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("""
all:
  vars:
    websites:
      - {name: old, url: "https://old.test/"}
  hosts:
    srv-web: {ansible_host: 192.0.2.10}
""")
    assert [s.name for s in load_websites(load_inventory(inventory))] == ["old"]
    (tmp_path / "group_vars" / "all.yml").write_text("""
websites:
  - name: pa-batulicin
    url: https://www.pa-batulicin.go.id/
    host: srv-web
    web_root: /var/www/html
    access_log: [/var/log/nginx/access.log*, /var/log/nginx/other.log]
  - {name: sipp, url: "https://sipp.pa-batulicin.go.id/"}
""")
    inv = load_inventory(inventory)
    sites = load_websites(inv)
    assert [s.name for s in sites] == ["pa-batulicin", "sipp"]        # group_vars/all replaces the list
    assert sites[0].access_logs == ("/var/log/nginx/access.log*", "/var/log/nginx/other.log")
    assert [s.name for s in load_websites(inv, "sipp")] == ["sipp"]
    with pytest.raises(UsageError, match="no such website"):
        load_websites(inv, "nope")


def test_a_website_host_must_be_in_the_inventory(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("""
all:
  vars:
    websites: [{name: a, url: "https://a.test/", host: srv-gone, web_root: /var/www}]
  hosts: {srv-web: {}}
""")
    with pytest.raises(InputError, match=r"websites\[0\]\.host: host 'srv-gone' is not in the inventory"):
        load_websites(load_inventory(inventory))


def test_the_example_office_inventory_has_a_valid_websites_list():
    sites = load_websites(load_inventory(REPO / "inventory" / "example-office.yml"))
    assert sites and all(s.url.startswith("https://") for s in sites)
    assert any(s.host == "srv-web" and s.access_logs for s in sites)
