#!/usr/bin/env bash
# Builds the SDKs as users receive them and proves each package works from a clean environment:
#   - the Python wheel and the sdist, each installed into a fresh virtualenv (no repository on sys.path);
#   - the npm tarball (`npm pack`), installed into a temporary Node project;
# then a smoke test of each (import/require, the CLI), and the live-server SDK tests that run SDK code in a
# subprocess (the README example, the CLI, the JavaScript scenarios) against the installed wheel and tarball.
# Called by .ci/run; `bash scripts/check-sdk-packages.sh` runs it locally.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
uv="$root/.venv/bin/uv"
python=$(scripts/find-python.sh)

# uv uses the network when it can and its cache when it cannot (an offline CI runner with a warm cache).
uv_or_offline() { "$uv" "$@" 2>"$work/uv.err" || { cat "$work/uv.err" >&2; "$uv" "$@" --offline; }; }

echo "-- Python: build the wheel and the sdist"
if "$root/.venv/bin/python" -c 'import build' 2>/dev/null; then
  "$root/.venv/bin/python" -m build --outdir "$work/dist" sdk/python
else
  uv_or_offline build sdk/python --out-dir "$work/dist" --quiet
fi
wheel=$(ls "$work"/dist/incidentfox-*.whl)
sdist=$(ls "$work"/dist/incidentfox-*.tar.gz)
"$python" - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
assert "incidentfox/py.typed" in names, "the wheel lacks py.typed (typed for mypy users)"
entry_points = next(n for n in names if n.endswith("entry_points.txt"))
assert "incidentfox = incidentfox.cli:main" in zipfile.ZipFile(sys.argv[1]).read(entry_points).decode(), "no console script"
PY

smoke_python() {  # $1: a virtualenv with the package installed
  (cd "$work" && "$1/bin/python" - <<'PY'
import asyncio
import incidentfox
from incidentfox import AsyncIncidentFoxClient, IncidentFoxClient, NotFoundError, verify_webhook

assert "site-packages" in incidentfox.__file__, incidentfox.__file__
import httpx

def handler(request: httpx.Request) -> httpx.Response:
    body = {"error": {"code": "not_found", "message": "Not found", "request_id": "req_smoke"}}
    return httpx.Response(404, json=body, headers={"X-Request-ID": "req_smoke"})

client = IncidentFoxClient("ift_x", "http://api.test/api/v1", transport=httpx.MockTransport(handler))
try:
    client.investigations.get("inv_x")
except NotFoundError as error:
    assert error.request_id == "req_smoke"
else:
    raise SystemExit("no NotFoundError")

async def main() -> None:
    async with AsyncIncidentFoxClient("ift_x", "http://api.test/api/v1", transport=httpx.MockTransport(handler)) as c:
        try:
            await c.me()
        except NotFoundError:
            return
    raise SystemExit("no NotFoundError (async)")

asyncio.run(main())
assert callable(verify_webhook)
print("python smoke test passed:", incidentfox.__version__, incidentfox.__file__)
PY
  )
  "$1/bin/incidentfox" --version
}

for artefact in "$wheel" "$sdist"; do
  venv="$work/venv-$(basename "$artefact")"
  echo "-- Python: install $(basename "$artefact") into a clean virtualenv"
  "$uv" venv --quiet --python "$python" "$venv"
  uv_or_offline pip install --quiet --python "$venv/bin/python" "$artefact"
  smoke_python "$venv"
done

echo "-- JavaScript: npm pack, then install the tarball into a temporary project"
sh scripts/install-node.sh
js_dir=""
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  tarball=$(cd sdk/js && npm pack --silent --pack-destination "$work")
  project="$work/node-project"
  mkdir -p "$project"
  (cd "$project" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund --offline "$work/$tarball")
  (cd "$project" && node -e '
  const sdk = require("@incidentfox/sdk");
  const path = require.resolve("@incidentfox/sdk");
  if (!path.includes("node_modules")) throw new Error("resolved outside node_modules: " + path);
  if (typeof sdk.IncidentFoxClient !== "function") throw new Error("no IncidentFoxClient from require()");
  console.log("require() smoke test passed:", sdk.VERSION, path);
  ')
  (cd "$project" && node --input-type=module -e '
  import { IncidentFoxClient, NotFoundError } from "@incidentfox/sdk";
  import cjs from "@incidentfox/sdk";
  if (IncidentFoxClient !== cjs.IncidentFoxClient) throw new Error("import and require() load different copies");
  const fetch = async () => new Response(JSON.stringify({ error: { code: "not_found", message: "Not found", request_id: "req_js" } }),
    { status: 404, headers: { "Content-Type": "application/json" } });
  const client = new IncidentFoxClient({ token: "ift_x", baseUrl: "http://api.test/api/v1", fetch });
  await client.investigations.get("inv_x").then(() => { throw new Error("resolved"); },
    (error) => { if (!(error instanceof NotFoundError)) throw error; });
  console.log("import smoke test passed");
  ')

  js_dir="$project/node_modules/@incidentfox/sdk"
else
  echo "NODE OR NPM NOT FOUND: the npm tarball was not checked. Install Node.js 18+ with npm." >&2
  [ "${CI:-}" = "true" ] && exit 1
fi

echo "-- the live-server SDK tests against the installed packages"
INCIDENTFOX_SDK_PYTHON="$work/venv-$(basename "$wheel")/bin/python" \
INCIDENTFOX_SDK_JS_DIR="$js_dir" \
  "$root/.venv/bin/python" -m pytest -q -p no:cacheprovider \
  tests/sdk/test_python_sdk_live.py tests/sdk/test_js_sdk.py tests/sdk/test_knowledge_sdk.py \
  -k "readme or cli or js_sdk"
