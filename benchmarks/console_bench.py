"""The console's pages against a running server (e.g. ``opsledger serve`` after
``opsledger demo``): each page fetched ``--repeat`` times with a signed-in session,
its median and slowest time printed next to the API route that reads the same data
(the baseline, measured in the same run). The target is under 300 ms per page.

    python -m benchmarks.console_bench --url http://127.0.0.1:8000 --token <admin token>
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from urllib.parse import quote

import httpx


def sign_in(client: httpx.Client, token: str) -> None:
    form = client.get("/console/sign-in")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf, "no sign-in form"
    answer = client.post("/console/sign-in", data={
        "csrf_token": csrf.group(1), "token": token, "next": "/console"})
    assert answer.status_code == 303, answer.text


def timed(client: httpx.Client, path: str, repeat: int,
          headers: dict[str, str] | None = None) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return statistics.median(times), max(times)


def pages(api: httpx.Client) -> list[tuple[str, str, str]]:
    """(name, console page, the API route reading the same data) of the demo month."""
    team = api.get("/v1/teams").json()["items"][0]["id"]
    incidents = api.get("/v1/incidents", params={"team_id": team, "limit": 500}).json()["items"]
    incident = max(incidents, key=lambda i: len(i.get("timeline") or []))["id"]
    member = api.get(f"/v1/teams/{team}").json()["roster"][0]["member_id"]
    goal = api.get("/v1/goals", params={"team_id": team}).json()["items"][0]["id"]
    return [
        ("overview", "/console", "/v1/teams"),
        ("team", f"/console/teams/{team}", f"/v1/performance/teams/{team}/metrics"),
        ("incident", f"/console/incidents/{incident}", f"/v1/incidents/{incident}"),
        ("member", f"/console/members/{member}",
         f"/v1/performance/members/{member}/timeline?limit=100"),
        ("compliance (open)", "/console/compliance",
         "/v1/compliance/findings?state=open&limit=500"),
        ("compliance (all)", "/console/compliance?state=all",
         "/v1/compliance/findings?limit=500"),
        ("audit trail", "/console/audit", "/v1/audit?limit=100"),
        ("audit, one entity", f"/console/audit?entity_id={incident}",
         f"/v1/audit?entity_id={incident}"),
        ("entity versions", f"/console/audit/entities/{incident}?as_of="
         + quote("2030-01-01T00:00"), f"/v1/compliance/entities/{incident}/history"),
        ("risks", "/console/risks", "/v1/risks/heatmap"),
        ("training matrix", f"/console/teams/{team}/trainings",
         f"/v1/trainings/matrix?team_id={team}"),
        ("goal", f"/console/goals/{goal}", f"/v1/goals/{goal}"),
        ("feedback", f"/console/teams/{team}/feedback", f"/v1/feedback?team_id={team}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bearer = {"Authorization": f"Bearer {args.token}"}
    with httpx.Client(base_url=args.url, timeout=60) as console, \
            httpx.Client(base_url=args.url, timeout=60, headers=bearer) as api:
        sign_in(console, args.token)
        print(f"{'page':<20} {'median ms':>10} {'max ms':>8}   "
              f"{'API baseline':<45} {'median ms':>10}")
        for name, path, baseline in pages(api):
            timed(console, path, 1)  # warm
            median, slowest = timed(console, path, args.repeat)
            base, _ = timed(api, baseline, args.repeat)
            flag = "" if slowest < 300 else "  over 300 ms"
            print(f"{name:<20} {median:>10.1f} {slowest:>8.1f}   {baseline[:45]:<45} "
                  f"{base:>10.1f}{flag}")


if __name__ == "__main__":
    main()
