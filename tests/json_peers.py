"""Formats records described in a JSON file with the Python peers of the json_lines encoder:
Elastic's ecs-logging (StdlibFormatter) and python-json-logger (JsonFormatter), one output
file each, one line per record. Run by tests/json_lines_differential.rs in the venv that
scripts/install/json.sh makes.

usage: json_peers.py SPEC.json ECS_OUT FLAT_OUT
"""
import json
import logging
import sys

import ecs_logging
from pythonjsonlogger.json import JsonFormatter

spec_path, ecs_out, flat_out = sys.argv[1:4]
spec = json.load(open(spec_path, encoding="utf-8"))

ecs = ecs_logging.StdlibFormatter(
    extra={"service.name": spec["service"], "host.hostname": spec["host"], **spec["extra"]}
)
flat = JsonFormatter(
    "%(levelname)s %(name)s %(message)s %(pathname)s %(lineno)d %(funcName)s %(module)s "
    "%(threadName)s %(process)d",
    timestamp=True,
    static_fields={"service": spec["service"], **spec["extra"]},
    json_ensure_ascii=False,
)

with open(ecs_out, "w", encoding="utf-8") as e, open(flat_out, "w", encoding="utf-8") as f:
    for r in spec["records"]:
        attrs = {
            "name": r["target"],
            "msg": r["message"],
            "args": None,
            "levelname": r["levelname"],
            "levelno": r["levelno"],
            "pathname": r["file"],
            "filename": r["file"].rsplit("/", 1)[-1],
            "module": r["module"],
            "lineno": r["line"],
            "funcName": r["function"],
            "threadName": r["thread"],
            "process": r["pid"],
        }
        attrs.update(r["kvs"])
        if r.get("error"):
            cls = type(r["error"]["type"], (Exception,), {})
            try:
                raise cls(r["error"]["message"])
            except Exception:
                attrs["exc_info"] = sys.exc_info()
        record = logging.makeLogRecord(attrs)
        e.write(ecs.format(record) + "\n")
        f.write(flat.format(record) + "\n")
