"""F.1 and F.4 against real HTTP(S) servers on loopback: fresh, stale, expired, expiring, silent, refused...

Nothing is mocked: each site is an http.server in a thread (TLS with a certificate made here), and
the checks talk to it over real sockets. The compliance report then reads the stored run.
"""

from __future__ import annotations

import datetime as _dt
import time

import pytest

from sopctl.compliance.status import evaluate_month
from sopctl.website import checks as wc
from sopctl.website.config import parse_website
from sopctl.website.probe import FetchError, fetch, tls_probe

from .servers import Route, Silent, Site, closed_port, http_date, make_cert, rss, sitemap

UTC = _dt.timezone.utc
NOW = _dt.datetime.now(UTC)
DAY = _dt.timedelta(days=1)


def _ymd(moment: _dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d")


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    """Every kind of website the checks must tell apart, started once for the module."""
    folder = tmp_path_factory.mktemp("certs")
    certs = {
        "good": make_cert(folder, "good", NOW - 10 * DAY, NOW + 200 * DAY),
        "expired": make_cert(folder, "expired", NOW - 400 * DAY, NOW - 30 * DAY),
        "soon": make_cert(folder, "soon", NOW - 80 * DAY, NOW + 3 * DAY + _dt.timedelta(hours=2)),
        "month": make_cert(folder, "month", NOW - 80 * DAY, NOW + 25 * DAY + _dt.timedelta(hours=2)),
    }
    page = Route(headers={"Last-Modified": http_date(NOW - 1 * DAY)})
    dynamic = Route(headers={"Last-Modified": http_date(NOW)})          # a CMS stamping "now" on every page
    sites = {
        "fresh": Site({"/": page, "/sitemap.xml": Route(body=sitemap(_ymd(NOW - 40 * DAY), (NOW - 2 * DAY).isoformat()))},
                      certs["good"]),
        "stale": Site({"/": dynamic, "/sitemap.xml": Route(body=sitemap((NOW - 90 * DAY).isoformat(), _ymd(NOW - 120 * DAY)))},
                      certs["good"]),
        "stale-header": Site({"/": Route(headers={"Last-Modified": http_date(NOW - 75 * DAY)})}, certs["good"]),
        "feed": Site({"/": page, "/feed": Route(body=rss(NOW - 3 * DAY, NOW - 9 * DAY))}, certs["good"]),
        "expired": Site({"/": page, "/sitemap.xml": Route(body=sitemap(_ymd(NOW - DAY)))}, certs["expired"]),
        "soon": Site({"/": page, "/sitemap.xml": Route(body=sitemap(_ymd(NOW - DAY)))}, certs["soon"]),
        "month": Site({"/": page, "/sitemap.xml": Route(body=sitemap(_ymd(NOW - DAY)))}, certs["month"]),
        "plain": Site({"/": page, "/sitemap.xml": Route(body=sitemap(_ymd(NOW - DAY)))}),
        "busy": Site({"/": Route(503, b"maintenance")}),
        "moved": Site({"/": Route(301, b"", {"Location": "/home"}), "/home": page}),
    }
    silent = Silent()
    yield {"sites": sites, "certs": certs, "silent": silent}
    for site in sites.values():
        site.close()
    silent.close()


def _site(farm, name, **extra):
    server = farm["sites"][name]
    cert = {"expired": "expired", "soon": "soon", "month": "month"}.get(name, "good")
    raw = {"name": name, "url": server.url, "domain_expires": (NOW + 300 * DAY).date(),
           "hosting_expires": (NOW + 200 * DAY).date(), "max_content_age_days": 30, "timeout": 5, "retries": 2}
    if server.scheme == "https":
        raw["ca_file"] = str(farm["certs"][cert][0])
    raw.update(extra)
    return parse_website({k: v for k, v in raw.items() if v is not None})


def _by_check(report):
    return {o.check_id: o for o in report.outcomes}


def test_a_fresh_site_passes_every_check(farm):
    report = wc.check_site(_site(farm, "fresh"))
    out = _by_check(report)
    assert {k: o.status for k, o in out.items()} == {
        wc.AVAILABLE: "pass", wc.TLS_VALID: "pass", wc.FRESH: "pass", wc.RENEWALS: "pass"}, out
    assert out[wc.AVAILABLE].observed.startswith("HTTP 200 OK in ")
    assert "days left" in out[wc.TLS_VALID].observed and "CN=good" in out[wc.TLS_VALID].observed
    assert out[wc.FRESH].data["source"] == "sitemap"
    assert 1.9 < out[wc.FRESH].data["age_days"] < 2.1          # the newest of the two lastmod dates
    assert out[wc.RENEWALS].data["level"] == "ok"


def test_a_stale_sitemap_fails_even_when_the_page_says_it_changed_now(farm):
    out = _by_check(wc.check_site(_site(farm, "stale")))
    assert out[wc.AVAILABLE].status == "pass"
    assert out[wc.FRESH].status == "fail"
    assert out[wc.FRESH].data["source"] == "sitemap"
    assert "(90.0 days old, from sitemap); older than 30 days" in out[wc.FRESH].observed
    assert "last-modified" in out[wc.FRESH].output            # the header was seen, and not trusted


def test_an_old_last_modified_header_is_used_when_nothing_else_has_a_date(farm):
    out = _by_check(wc.check_site(_site(farm, "stale-header")))
    fresh = out[wc.FRESH]
    assert (fresh.status, fresh.data["source"]) == ("fail", "last-modified")
    assert "sitemap" in fresh.output and "HTTP 404" in fresh.output


def test_rss_pubdate_is_a_content_date(farm):
    out = _by_check(wc.check_site(_site(farm, "feed", sitemap=False, feed="/feed")))
    assert (out[wc.FRESH].status, out[wc.FRESH].data["source"]) == ("pass", "feed")
    assert 2.9 < out[wc.FRESH].data["age_days"] < 3.1


def test_an_expired_certificate_is_reported_with_its_dates(farm):
    out = _by_check(wc.check_site(_site(farm, "expired")))
    tls = out[wc.TLS_VALID]
    assert out[wc.AVAILABLE].status == "pass"          # the server answers; the certificate is what is wrong
    assert tls.status == "fail"
    assert "certificate has expired" in tls.observed
    assert f"expired {(NOW - 30 * DAY):%Y-%m-%d}" in tls.observed and "30 days ago" in tls.observed
    assert tls.data["not_after"].startswith(_ymd(NOW - 30 * DAY))
    renewals = out[wc.RENEWALS]
    assert renewals.status == "fail" and renewals.data["level"] == "expired"


def test_a_certificate_expiring_within_7_days_is_valid_but_fails_renewals(farm):
    out = _by_check(wc.check_site(_site(farm, "soon")))
    assert out[wc.TLS_VALID].status == "pass"
    assert "(3 days left)" in out[wc.TLS_VALID].observed
    renewals = out[wc.RENEWALS]
    assert renewals.status == "fail"
    assert renewals.data["level"] == "7-day"
    assert "certificate" in renewals.observed and "3 days left, 7-day warning" in renewals.observed


def test_a_certificate_within_30_days_passes_renewals_with_the_warning_level(farm):
    out = _by_check(wc.check_site(_site(farm, "month")))
    renewals = out[wc.RENEWALS]
    assert (renewals.status, renewals.data["level"]) == ("pass", "30-day")
    assert renewals.observed.startswith("warning level 30-day")


def test_an_untrusted_self_signed_certificate_is_reported_not_just_an_error(farm):
    out = _by_check(wc.check_site(_site(farm, "fresh", ca_file=None)))
    tls = out[wc.TLS_VALID]
    assert tls.status == "fail"
    assert "self-signed certificate" in tls.observed
    assert "days left" in tls.observed and tls.data["self_signed"] is True


def test_a_server_that_never_answers_is_a_timeout_within_its_timeout(farm):
    silent = farm["silent"]
    site = parse_website({"name": "hung", "url": silent.url("https"), "timeout": 1.5, "retries": 3,
                          "domain_expires": (NOW + 300 * DAY).date(), "hosting_expires": (NOW + 300 * DAY).date()})
    started = time.monotonic()
    out = _by_check(wc.check_site(site))
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, f"took {elapsed:.2f}s"
    assert out[wc.AVAILABLE].status == "fail"
    assert out[wc.AVAILABLE].observed.startswith("timeout: no answer within 1.5s")
    assert out[wc.TLS_VALID].status == "error" and "did not answer" in out[wc.TLS_VALID].observed
    assert out[wc.FRESH].status == "error"
    assert out[wc.RENEWALS].status == "error"            # the certificate's date is unknown


def test_plain_http_has_no_tls_check_and_redirects_are_followed(farm):
    out = _by_check(wc.check_site(_site(farm, "plain")))
    assert out[wc.TLS_VALID].status == "na"
    assert out[wc.RENEWALS].status == "pass"
    moved = _by_check(wc.check_site(_site(farm, "moved", sitemap=False)))
    assert moved[wc.AVAILABLE].status == "pass"
    assert "/home" in moved[wc.AVAILABLE].data["final_url"] and moved[wc.AVAILABLE].data["redirects"]


def test_retries_are_bounded_and_reported(farm):
    busy = farm["sites"]["busy"]
    before = len(busy.hits)
    out = _by_check(wc.check_site(_site(farm, "busy", sitemap=False, retries=2)))
    assert out[wc.AVAILABLE].status == "fail"
    assert "HTTP 503" in out[wc.AVAILABLE].observed and "(attempt 3)" in out[wc.AVAILABLE].observed
    assert len(busy.hits) - before == 3
    started = time.monotonic()
    with pytest.raises(FetchError) as refused:
        fetch(f"http://127.0.0.1:{closed_port()}/", timeout=3, retries=2)
    assert refused.value.kind == "refused" and refused.value.attempts == 3
    assert time.monotonic() - started < 3


def test_expected_status_and_text(farm):
    out = _by_check(wc.check_site(_site(farm, "busy", sitemap=False, expected_status=[503], retries=0)))
    assert out[wc.AVAILABLE].status == "pass"
    out = _by_check(wc.check_site(_site(farm, "fresh", expect_text="Mahkamah")))
    assert out[wc.AVAILABLE].status == "fail" and "not on the page" in out[wc.AVAILABLE].observed


def test_renewal_dates_from_the_inventory(farm):
    out = _by_check(wc.check_site(_site(farm, "plain", domain_expires=(NOW + 5 * DAY).date())))
    assert out[wc.RENEWALS].status == "fail" and "domain" in out[wc.RENEWALS].observed
    out = _by_check(wc.check_site(_site(farm, "plain", hosting_expires=(NOW + 45 * DAY).date())))
    assert (out[wc.RENEWALS].status, out[wc.RENEWALS].data["level"]) == ("pass", "60-day")
    site = parse_website({"name": "x", "url": farm["sites"]["plain"].url, "domain_expires": "2030-01-01"})
    out = _by_check(wc.check_site(site))
    assert out[wc.RENEWALS].status == "error" and "hosting_expires not in the inventory" in out[wc.RENEWALS].observed
    site = parse_website({"name": "x", "url": farm["sites"]["plain"].url, "domain_expires": "2030-01-01",
                          "hosting_expires": None})
    assert _by_check(wc.check_site(site))[wc.RENEWALS].status == "pass"     # null: no hosting to renew


def test_tls_probe_reads_the_certificate_of_a_failing_handshake(farm):
    server = farm["sites"]["expired"]
    result = tls_probe("127.0.0.1", server.port, timeout=3)          # system CA store: untrusted and expired
    assert not result.verified and result.cert is not None
    assert result.cert.not_after < NOW and result.verify_error


def test_the_report_shows_f1_and_f4_from_the_stored_runs(farm, store, catalog):
    month = NOW.astimezone().strftime("%Y-%m")
    good = wc.check_sites([_site(farm, "fresh")])
    wc.store_checks(store, good, what="website.check")
    report = evaluate_month(catalog, store, month, NOW.astimezone().date())
    assert report.item("F.1").status == "compliant"
    assert report.item("F.1").hosts_passing == ["fresh"]
    assert report.item("F.4").status == "compliant"
    bad = wc.check_sites([_site(farm, "stale"), _site(farm, "expired"), _site(farm, "soon")])
    wc.store_checks(store, bad, what="website.check")
    report = evaluate_month(catalog, store, month, NOW.astimezone().date())
    f1 = report.item("F.1")
    assert f1.status == "partly"
    assert f1.hosts_failing == ["expired", "stale"] and f1.hosts_passing == ["fresh", "soon"]
    assert report.item("F.4").status == "partly"
    assert report.item("F.4").hosts_failing == ["expired", "soon"]
    lines = {(line.check_id, line.host): line for line in f1.evidence if line.kind == "check"}
    assert "certificate has expired" in lines[("website-tls-valid", "expired")].observed


def test_only_failing_sites_make_f1_non_compliant(farm, store, catalog):
    month = NOW.astimezone().strftime("%Y-%m")
    wc.store_checks(store, wc.check_sites([_site(farm, "stale"), _site(farm, "expired")]))
    report = evaluate_month(catalog, store, month, NOW.astimezone().date())
    assert report.item("F.1").status == "non-compliant"
