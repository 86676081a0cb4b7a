"""casemate audit dockerfile against Dockerfiles written by the tests.
Contract: exit 0 when nothing is at or above --fail-on (default high), 1 when
something is, 125 when a file cannot be read or parsed (one line naming the
file and the line)."""
import json
import os
import shutil
import subprocess
import tempfile

import pytest

CASEMATE = os.environ.get("CASEMATE", "build/casemate")

BAD = """\
# syntax=docker/dockerfile:1
ARG BASE=ubuntu
FROM $BASE AS build
ENV DB_PASSWORD=hunter2 \\
    # a comment inside the continuation
    APP_HOME=/app
RUN apt-get update
RUN curl -fsSL https://get.example.com/install.sh | sh

FROM someone/tool:latest
COPY id_rsa /root/.ssh/id_rsa
ADD https://example.com/x.sh /x.sh
RUN apt-get update && apt-get install -y openssh-server sudo \\
 && chmod 4755 /usr/local/bin/tool \\
 && chmod -R 777 /srv
EXPOSE 80 22
VOLUME /proc/sys
USER root
CMD ["supervisord", "-n"]
"""

CLEAN = """\
# syntax=docker/dockerfile:1
FROM golang:1.22-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app

FROM debian:12-slim
RUN apt-get update \\
 && apt-get install -y --no-install-recommends ca-certificates \\
 && rm -rf /var/lib/apt/lists/* \\
 && useradd --system --uid 10001 app
COPY --from=build /out/app /usr/local/bin/app
USER app
EXPOSE 8080
HEALTHCHECK --interval=30s CMD ["/usr/local/bin/app", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/app"]
"""

SEVERITIES = ["info", "low", "medium", "high", "critical"]


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="audit_dockerfile_")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def write(tmp, name, text):
    p = os.path.join(tmp, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
    return p


def audit(*args):
    p = subprocess.run([CASEMATE, "audit", "dockerfile", *args], capture_output=True, text=True,
                       timeout=60)
    doc = json.loads(p.stdout) if p.returncode in (0, 1) and "json" in args else None
    return p, doc


def hits(doc, rule_id):
    return [f for f in doc["findings"] if f["id"] == rule_id]


def test_bad_dockerfile(tmp):
    path = write(tmp, "Dockerfile", BAD)
    p, doc = audit(path, "--format", "json")
    assert p.returncode == 1, p.stderr
    expect = {  # id -> line
        "CM-DF-001": 4,   # ENV DB_PASSWORD
        "CM-DF-014": 7,   # apt-get update alone
        "CM-DF-017": 8,   # curl | sh
        "CM-DF-007": 10,  # :latest
        "CM-DF-024": 10,  # Docker Hub user image
        "CM-DF-004": 11,  # COPY id_rsa
        "CM-DF-010": 12,  # ADD URL
        "CM-DF-022": 13,  # openssh-server
        "CM-DF-013": 13,  # sudo installed
        "CM-DF-020": 14,  # chmod 4755, on its own line of the continued RUN
        "CM-DF-019": 15,  # chmod 777
        "CM-DF-021": 16,  # EXPOSE 22
        "CM-DF-028": 17,  # VOLUME /proc
        "CM-DF-006": 18,  # USER root
        "CM-DF-023": 19,  # supervisord
        "CM-DF-011": 10,  # no HEALTHCHECK in the final stage
    }
    for rid, line in expect.items():
        found = hits(doc, rid)
        assert found, rid
        assert line in [f["location"]["line"] for f in found], (rid, found)
    for f in doc["findings"]:
        assert f["location"]["path"] == path
        assert f["severity"] in SEVERITIES
        assert f["topic"] and f["title"] and f["remediation"] and f["references"]
    # the first stage is not the image: its missing USER is not reported
    assert not hits(doc, "CM-DF-005")
    assert "hunter2" not in p.stdout


def test_clean_dockerfile(tmp):
    path = write(tmp, "Dockerfile", CLEAN)
    p, doc = audit(path, "--format", "json", "--fail-on", "medium")
    assert p.returncode == 0, p.stdout
    assert all(SEVERITIES.index(f["severity"]) <= 1 for f in doc["findings"]), doc["findings"]


def test_fail_on_threshold(tmp):
    path = write(tmp, "Dockerfile", "FROM debian:12\nUSER app\nHEALTHCHECK CMD true\nEXPOSE 22\n")
    p, doc = audit(path, "--format", "json")  # medium only: below the default high
    assert p.returncode == 0
    assert hits(doc, "CM-DF-021")
    p, _ = audit(path, "--format", "json", "--fail-on", "medium")
    assert p.returncode == 1


def test_syntax_error_exit_125(tmp):
    path = write(tmp, "sub/Dockerfile", "FROM debian:12\nRUN true\n\nFOO bar\n")
    p, _ = audit(path, "--format", "json")
    assert p.returncode == 125
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1
    assert path + ":4: unknown instruction FOO" in lines[0]


def test_unreadable_exit_125(tmp):
    p, _ = audit(os.path.join(tmp, "missing"), "--format", "json")
    assert p.returncode == 125
    assert "missing" in p.stderr


def test_several_files_and_heredoc_lines(tmp):
    a = write(tmp, "a/Dockerfile", "# escape=`\nFROM debian:12\nRUN echo one `\n  && sudo true\n")
    b = write(tmp, "b/Dockerfile",
              "FROM debian:12\nRUN <<EOF\nset -e\napt-get update\nEOF\nUSER app\n")
    p, doc = audit(a, b, "--format", "json", "--fail-on", "critical")
    assert p.returncode == 0, p.stderr
    sudo = hits(doc, "CM-DF-012")
    # the escape is a backtick, and sudo is on the continuation line
    assert [(f["location"]["path"], f["location"]["line"]) for f in sudo] == [(a, 4)]
    upd = hits(doc, "CM-DF-014")
    assert [(f["location"]["path"], f["location"]["line"]) for f in upd] == [(b, 4)]


def test_text_output_names_file_and_line(tmp):
    path = write(tmp, "Dockerfile", "FROM debian\n")
    p = subprocess.run([CASEMATE, "audit", "dockerfile", path], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0
    assert "CM-DF-007" in p.stdout and path in p.stdout
