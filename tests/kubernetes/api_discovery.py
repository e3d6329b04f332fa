#!/usr/bin/env python3
"""The discovery part of a Kubernetes API server, for `kubectl create
--dry-run=client` on a machine without a cluster: kubectl asks the server
which API groups and kinds exist before it reads a manifest. Serves the
legacy discovery documents (/api, /api/v1, /apis, /apis/GROUP/VERSION) for
the kinds the samples use, on a free 127.0.0.1 port, while it runs the
command given after "--" with {server} replaced by the server's URL; exits
with the command's status. A kind it does not list is unknown to kubectl,
as on a real server without it.

    api_discovery.py -- kubectl create --dry-run=client --server {server} -f FILE
"""
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def resource(name, singular, kind, short=None):
    entry = {"name": name, "singularName": singular, "namespaced": True, "kind": kind,
             "verbs": VERBS}
    if short:
        entry["shortNames"] = short
    return entry


GROUP_VERSIONS = {
    "v1": [resource("configmaps", "configmap", "ConfigMap", ["cm"]),
           resource("secrets", "secret", "Secret")],
    "batch/v1": [resource("jobs", "job", "Job"),
                 resource("cronjobs", "cronjob", "CronJob", ["cj"])],
}


def documents(port):
    server = [{"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{port}"}]
    docs = {
        "/version": {"major": "1", "minor": "30", "gitVersion": "v1.30.0", "platform": "linux/amd64"},
        "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": server},
        "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": "batch", "versions": [{"groupVersion": "batch/v1", "version": "v1"}],
             "preferredVersion": {"groupVersion": "batch/v1", "version": "v1"}}]},
    }
    for group_version, resources in GROUP_VERSIONS.items():
        path = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        docs[path] = {"kind": "APIResourceList", "apiVersion": "v1",
                      "groupVersion": group_version, "resources": resources}
    return docs


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        body = self.server.documents.get(path)
        status = 200
        if body is None:
            status = 404
            body = {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "reason": "NotFound", "code": 404, "message": f"{path} not found"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def main():
    if "--" not in sys.argv:
        sys.exit("usage: api_discovery.py -- COMMAND... ({server} is replaced by the URL)")
    command = sys.argv[sys.argv.index("--") + 1:]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = httpd.server_address[1]
    httpd.documents = documents(port)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    status = subprocess.run([arg.replace("{server}", url) for arg in command]).returncode
    httpd.shutdown()
    sys.exit(status)


if __name__ == "__main__":
    main()
