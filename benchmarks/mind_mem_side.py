"""The mind-mem half of benchmarks/recall.py, run by an interpreter that has the `mind-mem` package.

    "$VENV/bin/python" benchmarks/mind_mem_side.py REQUEST.json   (VENV: a throwaway venv with mind-mem)

REQUEST.json: {"workspace": PATH, "queries": [...], "limit": 10}. Prints JSON: for each query the
IDs mind-mem's `recall` returned, its wall and CPU seconds, and the import time. Imports nothing
from mindmem (mind-mem is not a dependency of this project; it lives in a throwaway venv).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import time


def main(request_path: str) -> None:
    with open(request_path, encoding="utf-8") as handle:
        request = json.load(handle)
    began = time.perf_counter()
    # mind-mem logs every query as JSON on stderr; the benchmark wants only the answers.
    logging.disable(logging.CRITICAL)
    with contextlib.redirect_stderr(io.StringIO()):
        from mind_mem.recall import recall

        imported = time.perf_counter() - began
        workspace, limit = request["workspace"], request["limit"]
        os.chdir(workspace)
        recall(workspace, request["queries"][0], limit=limit)  # warm-up, as for mindmem
        answers = []
        for query in request["queries"]:
            wall, cpu = time.perf_counter(), time.process_time()
            hits = recall(workspace, query, limit=limit)
            answers.append(
                {
                    "ids": [h.get("_id") for h in hits],
                    "wall": time.perf_counter() - wall,
                    "cpu": time.process_time() - cpu,
                }
            )
    print(json.dumps({"import_seconds": imported, "answers": answers}))


if __name__ == "__main__":
    main(sys.argv[1])
