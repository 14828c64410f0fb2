"""Reads and writes by ``_id`` against a MongoDB-wire server, as the projector does them.

    OPSLEDGER_MONGO_URI=mongodb://127.0.0.1:27017 python -m benchmarks.mongo_id_bench

Fills a scratch collection with ``--docs`` documents (bulk inserts of 1,000), then
times ``find_one({_id})`` on a random sample and replacements by ``_id`` (update
commands of 20 statements, as :mod:`infra.read_store.mongo` sends them). On
FerretDB v1 (SQLite) built without ``infra/local/ferretdb/build.sh``'s fix both scan
the whole collection, so they slow down with ``--docs``; with it they use the
unique ``_id`` index. Prints figures; asserts nothing; drops its database.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from uuid import uuid4

import pymongo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mongo_id_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--reads", type=int, default=500)
    parser.add_argument("--replaces", type=int, default=200)
    args = parser.parse_args(argv)
    uri = os.environ.get("OPSLEDGER_MONGO_URI")
    if not uri:
        print("needs OPSLEDGER_MONGO_URI", file=sys.stderr)
        return 2
    client: pymongo.MongoClient = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
    db = client[f"idbench_{uuid4().hex[:8]}"]
    try:
        server = client.admin.command("buildInfo")
        kind = "FerretDB" if "ferretdbVersion" in server else "MongoDB"
        docs = [{"_id": f"doc-{i:08d}-{uuid4()}", "position": i, "body": "x" * 300}
                for i in range(args.docs)]
        started = time.perf_counter()
        for i in range(0, len(docs), 1000):
            db.command("insert", "docs", documents=docs[i : i + 1000], ordered=False)
        insert_s = time.perf_counter() - started
        sample = random.Random(7).sample(docs, max(args.reads, args.replaces))
        started = time.perf_counter()
        for doc in sample[: args.reads]:
            db.docs.find_one({"_id": doc["_id"]})
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        todo = sample[: args.replaces]
        for i in range(0, len(todo), 20):
            db.command("update", "docs", updates=[
                {"q": {"_id": d["_id"]}, "u": {**d, "position": -1}} for d in todo[i : i + 20]
            ])
        replace_s = time.perf_counter() - started
    finally:
        client.drop_database(db.name)
        client.close()
    print(f"{kind} {server.get('version')}, {args.docs:,} documents of ~350 bytes")
    print(f"  bulk insert          {args.docs / insert_s:>10,.0f} documents/s")
    print(f"  find_one by _id      {read_s / args.reads * 1000:>10.2f} ms each")
    print(f"  replace by _id (x20) {args.replaces / replace_s:>10,.0f} documents/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
