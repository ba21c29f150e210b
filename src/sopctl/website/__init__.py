"""Website monitoring for SOP/AS/32 section F (F.1, F.3-F.7). See docs/website.md.

* `config`: the inventory's `websites` list;
* `probe`: HTTP(S) and TLS with a time budget (the certificate is read even when it fails verification);
* `freshness`: content dates from a sitemap, a feed, the web root, the Last-Modified header;
* `checks`: website-available, website-tls-valid, website-fresh, website-renewals (F.1, F.4) and
  website-access-summary (F.3), stored as runs;
* `accesslog` / `remote`: the streamed, bounded-memory access-log summary over SSH;
* `incidents`: the F.6/F.7 incident register; `report`: the monthly situation report (F.5).
"""

from .config import Website, load_websites, parse_website, parse_websites

__all__ = ["Website", "load_websites", "parse_website", "parse_websites"]
