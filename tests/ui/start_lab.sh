#!/usr/bin/env bash
# Starts the JupyterLab the browser tests drive: this tree's server extension, magics and built lab
# extension; a token; allow_root; root dir, CONTAINERJOB_HOME, settings and workspaces in a temp dir.
# Called by tests/ui/playwright.config.ts (webServer) with CJ_UI_PORT, CJ_UI_TOKEN and CJ_UI_TMP set.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
PY=${CJ_PYTHON:-python3}
: "${CJ_UI_PORT:?}" "${CJ_UI_TOKEN:?}" "${CJ_UI_TMP:?}"
LABEXT=$REPO/python_pkg/containerjob/labextension

if [ ! -f "$LABEXT/package.json" ]; then
  echo "start_lab: $LABEXT is missing: run 'jlpm build' (or pip install .) first" >&2
  exit 1
fi
stale=$(find js_src schema -newer "$LABEXT/package.json" -type f | head -1)
if [ -n "$stale" ]; then
  echo "start_lab: the built lab extension is older than $stale: run 'jlpm build' first" >&2
  exit 1
fi

mkdir -p "$CJ_UI_TMP"/{root,home,config,labextensions,settings,workspaces} "$REPO/tests/ui/artifacts"
ln -sfn "$LABEXT" "$CJ_UI_TMP/labextensions/containerjob"
GALATA=$("$PY" -c 'import os, jupyterlab; print(os.path.join(os.path.dirname(jupyterlab.__file__), "galata"))')
cat > "$CJ_UI_TMP/config/jupyter_server_config.json" <<JSON
{
  "ServerApp": {
    "ip": "127.0.0.1",
    "port": $CJ_UI_PORT,
    "port_retries": 0,
    "open_browser": false,
    "allow_root": true,
    "root_dir": "$CJ_UI_TMP/root",
    "jpserver_extensions": {"containerjob": true}
  },
  "IdentityProvider": {"token": "$CJ_UI_TOKEN"},
  "LabServerApp": {"extra_labextensions_path": ["$CJ_UI_TMP/labextensions", "$GALATA"]},
  "LabApp": {
    "user_settings_dir": "$CJ_UI_TMP/settings",
    "workspaces_dir": "$CJ_UI_TMP/workspaces",
    "expose_app_in_browser": true
  }
}
JSON

LOG=$REPO/tests/ui/artifacts/jupyter-server.log
echo "start_lab: JupyterLab on port $CJ_UI_PORT, root $CJ_UI_TMP/root, log $LOG"
export PYTHONPATH=$REPO/python_pkg${PYTHONPATH:+:$PYTHONPATH}
export CONTAINERJOB_HOME=$CJ_UI_TMP/home JUPYTER_CONFIG_DIR=$CJ_UI_TMP/config
# A known project (the forms show it and jobs get it) and a staging bucket, so the server reports the
# Vertex AI backends available (nothing reaches Google: the tests submit nothing there); none of
# this machine's settings or gcloud.
export GOOGLE_CLOUD_PROJECT=containerjob-ui-test CONTAINERJOB_STAGING_BUCKET=cj-ui-staging \
  CONTAINERJOB_CONFIG=$CJ_UI_TMP/no-config.json CLOUDSDK_CONFIG=$CJ_UI_TMP/no-gcloud
unset CLOUDSDK_CORE_PROJECT GOOGLE_APPLICATION_CREDENTIALS CONTAINERJOB_PROJECT CONTAINERJOB_DEFAULT_IMAGE \
  CONTAINERJOB_DEFAULT_BACKEND JPY_SESSION_NAME
"$PY" -m jupyterlab >"$LOG" 2>&1 &
SERVER=$!
# Playwright ends the run with SIGTERM: stop the server (it shuts its kernels down), then remove
# the temp dir when the test config made it.
cleanup() {
  kill -TERM "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  # Jobs outlive their server by design; a test's jobs must not outlive the test: cancel what still runs
  # (its containers go with the cancel) before its home is removed.
  "$PY" - <<'PY' || true
from containerjob.service import JobService

service = JobService()
for job in service.list(active_only=True, limit=10000, refresh=False):
    service.cancel(job.id)
PY
  if [ "${CJ_UI_TMP_OWNED:-}" = 1 ]; then rm -rf "$CJ_UI_TMP"; fi
}
trap cleanup EXIT
trap 'exit 0' TERM INT
wait "$SERVER"
