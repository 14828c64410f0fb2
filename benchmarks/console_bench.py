"""Server time of the console's pages against a running ``opsledger serve`` (load the
demo month first: ``opsledger demo``), with the API reads they build on as the
baseline, measured in the same run over loopback.

    python -m benchmarks.console_bench --url http://127.0.0.1:8000 --token "$OPSLEDGER_TOKEN"

Each figure is the median and the maximum of ``--rounds`` requests, in milliseconds,
from the request sent to the last byte received (loopback: that is the server's time
plus well under a millisecond). It asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

import httpx


def timed(client: httpx.Client, path: str, rounds: int, **kwargs: object) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        answer = client.get(path, **kwargs)  # type: ignore[arg-type]
        answer.read()
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: {answer.status_code} {answer.text[:200]}")
    return statistics.median(times), max(times)


def sign_in(client: httpx.Client, token: str) -> None:
    form = client.get("/console/sign-in").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', form)
    if match is None:
        raise SystemExit("no sign-in form")
    answer = client.post("/console/sign-in", data={"csrf_token": match.group(1),
                                                   "token": token})
    if answer.status_code != 303:
        raise SystemExit(f"sign-in failed: {answer.status_code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    bearer = {"Authorization": f"Bearer {args.token}"}
    with httpx.Client(base_url=args.url, timeout=30) as client:
        sign_in(client, args.token)
        teams = client.get("/v1/teams", headers=bearer, params={"limit": 100}).json()["items"]
        rows: list[tuple[str, str, tuple[float, float]]] = []
        rows.append(("console", "/console (overview)", timed(client, "/console", args.rounds)))
        rows.append(("baseline", "GET /v1/compliance/findings?limit=500",
                     timed(client, "/v1/compliance/findings", args.rounds, headers=bearer,
                           params={"limit": 500})))
        for team in teams:
            page = f"/console/teams/{team['id']}"
            rows.append(("console", f"team page: {team['name']}",
                         timed(client, page, args.rounds)))
            rows.append(("console", "  its chart resolve.svg",
                         timed(client, f"{page}/charts/resolve.svg", args.rounds)))
            rows.append(("baseline", "  GET /v1/performance/teams/{id}/metrics",
                         timed(client, f"/v1/performance/teams/{team['id']}/metrics",
                               args.rounds, headers=bearer)))
    print(f"{'':8}  {'page':44} {'median ms':>10} {'max ms':>8}")
    for kind, name, (median, worst) in rows:
        print(f"{kind:8}  {name:44} {median:10.1f} {worst:8.1f}")


if __name__ == "__main__":
    main()
