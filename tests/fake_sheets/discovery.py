"""Google's discovery document for Sheets v4 (from google-api-python-client), and checks against it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import googleapiclient

DISCOVERY_PATH = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "sheets.v4.json"


class Discovery:
    def __init__(self, path: Path = DISCOVERY_PATH):
        self.doc = json.loads(path.read_text(encoding="utf-8"))
        self.schemas = self.doc["schemas"]
        self.methods: dict[str, dict[str, Any]] = {}
        self._walk(self.doc["resources"], "")
        # Longer templates first, so "values/{range}:append" wins over "values/{range}".
        self.routes = sorted(((m["httpMethod"], _template_regex(m["flatPath"]), mid)
                              for mid, m in self.methods.items()),
                             key=lambda r: -len(r[1].pattern))

    def _walk(self, resources: dict[str, Any], prefix: str) -> None:
        for name, resource in resources.items():
            for mname, method in resource.get("methods", {}).items():
                self.methods[f"{prefix}{name}.{mname}"] = method
            self._walk(resource.get("resources", {}), f"{prefix}{name}.")

    def match(self, http_method: str, path: str) -> tuple[str, dict[str, str]] | None:
        for verb, regex, mid in self.routes:
            found = regex.match(path.lstrip("/"))
            if found and verb == http_method:
                return mid, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def check_params(self, mid: str, params: dict[str, list[str]]) -> list[str]:
        declared = self.methods[mid].get("parameters", {})
        problems = []
        for name, values in params.items():
            spec = declared.get(name) or self.doc["parameters"].get(name)
            if spec is None or spec.get("location") == "path":
                problems.append(f"{mid}: undeclared query parameter {name!r}")
                continue
            if len(values) > 1 and not spec.get("repeated"):
                problems.append(f"{mid}: parameter {name!r} given {len(values)} times")
            for value in values:
                if "enum" in spec and value not in spec["enum"]:
                    problems.append(f"{mid}: {name}={value!r} not in {spec['enum']}")
                if spec.get("type") == "boolean" and value not in ("true", "false", "True", "False"):
                    problems.append(f"{mid}: {name}={value!r} is not a boolean")
        return problems

    def check(self, value: Any, schema: dict[str, Any], where: str) -> list[str]:
        if "$ref" in schema:
            return self.check(value, self.schemas[schema["$ref"]], where)
        kind = schema.get("type")
        if kind == "object":
            if not isinstance(value, dict):
                return [f"{where}: expected an object"]
            problems = []
            props, extra = schema.get("properties"), schema.get("additionalProperties")
            for key, item in value.items():
                if props is not None and key in props:
                    problems += self.check(item, props[key], f"{where}.{key}")
                elif extra is not None:
                    problems += self.check(item, extra, f"{where}.{key}")
                else:
                    problems.append(f"{where}: unknown field {key!r}")
            return problems
        if kind == "array":
            if not isinstance(value, list):
                return [f"{where}: expected an array"]
            return [p for i, item in enumerate(value)
                    for p in self.check(item, schema.get("items", {}), f"{where}[{i}]")]
        if kind == "string":
            if schema.get("format") in ("int64", "uint64") and isinstance(value, int):
                return []
            if not isinstance(value, str):
                return [f"{where}: expected a string, got {value!r}"]
            if "enum" in schema and value not in schema["enum"]:
                return [f"{where}: {value!r} not in {schema['enum']}"]
            return []
        if kind == "integer":
            return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{where}: expected an integer"]
        if kind == "number":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            return [] if ok else [f"{where}: expected a number"]
        if kind == "boolean":
            return [] if isinstance(value, bool) else [f"{where}: expected a boolean"]
        return []  # "any"


def _template_regex(flat: str) -> re.Pattern[str]:
    out, pos = "^", 0
    for found in re.finditer(r"\{(\w+)\}", flat):
        out += re.escape(flat[pos:found.start()]) + f"(?P<{found[1]}>[^/:]+(?::[^/:]+)*?)"
        pos = found.end()
    return re.compile(out + re.escape(flat[pos:]) + "$")

