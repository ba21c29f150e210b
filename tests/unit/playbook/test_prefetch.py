"""fetch_ahead: speculative plans gather their stats and reads into as few round trips as possible."""

from __future__ import annotations

import pytest

from sopctl.engine.prefetch import ROUNDS, Miss, NotAhead, Observations, fetch_ahead


class Host:
    """Answers batches like the agent would, from a dict of path -> content; counts the round trips."""

    def __init__(self, files: dict[str, str]):
        self.files, self.batches = files, []

    def batch(self, become_user, requests):
        self.batches.append((become_user, [r["op"] + ":" + r["path"] for r in requests]))
        return [{"ok": True, "result": {"exists": r["path"] in self.files,
                                        "content": self.files.get(r["path"])}} for r in requests]


def planner(cache: Observations, become_user=None):
    """A plan that looks like lineinfile's: stat the file, then read it if it exists."""

    def observe(request):
        answer = cache.get(become_user, request)
        if answer is None:
            raise Miss(request)
        return answer["result"]

    def make(path):
        def plan():
            if observe({"op": "stat", "path": path})["exists"]:
                observe({"op": "read", "path": path})
        return become_user, plan
    return make


def test_two_rounds_for_stat_then_read_over_many_tasks_and_duplicates_asked_once():
    host, cache = Host({"/a": "1", "/b": "2"}), Observations()
    trips = fetch_ahead(["/a", "/b", "/a", "/missing"], planner(cache), host.batch, cache)
    assert trips == 2
    assert host.batches == [(None, ["stat:/a", "stat:/b", "stat:/missing"]), (None, ["read:/a", "read:/b"])]
    assert cache.get(None, {"op": "read", "path": "/b"})["result"]["content"] == "2"
    assert len(cache) == 5


def test_become_users_are_batched_and_cached_apart():
    host, cache = Host({"/a": "1"}), Observations()
    root, nobody = planner(cache), planner(cache, "nobody")
    fetch_ahead([("root", "/a"), ("nobody", "/a")],
                lambda t: (root if t[0] == "root" else nobody)(t[1]), host.batch, cache)
    assert sorted(u or "" for u, _ in host.batches[:2]) == ["", "nobody"]
    assert cache.get("nobody", {"op": "stat", "path": "/a"}) is not None
    assert cache.get(None, {"op": "stat", "path": "/a"}) is not None


def test_tasks_that_cannot_be_planned_ahead_are_left_to_the_run():
    host, cache = Host({}), Observations()

    def speculate(task):
        if task == "undefined variable":
            raise KeyError("registered later")
        if task == "command":
            def plan():
                raise NotAhead()
            return None, plan
        return planner(cache)(task)

    assert fetch_ahead(["undefined variable", "command", "/x"], speculate, host.batch, cache) == 1
    assert host.batches == [(None, ["stat:/x"])]


def test_never_more_than_rounds_round_trips():
    host, cache = Host({}), Observations()
    counter = iter(range(1000))

    def speculate(_task):
        def plan():  # a plan that always wants something new
            raise Miss({"op": "stat", "path": f"/{next(counter)}"})
        return None, plan

    assert fetch_ahead(["greedy"], speculate, host.batch, cache) == ROUNDS


def test_clear_forgets_everything():
    cache = Observations()
    cache.put(None, {"op": "stat", "path": "/a"}, {"ok": True, "result": {}})
    cache.clear()
    assert cache.get(None, {"op": "stat", "path": "/a"}) is None and len(cache) == 0


@pytest.mark.parametrize("order", [("b", "a"), ("a", "b")])
def test_the_key_does_not_depend_on_argument_order(order):
    cache = Observations()
    request = dict((k, {"a": 1, "b": 2}[k]) for k in order)
    cache.put(None, request, {"ok": True})
    assert cache.get(None, {"a": 1, "b": 2}) == {"ok": True}
