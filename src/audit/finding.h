/* finding.h: what every audit rule reports, and the report that collects
 * findings for the text, JSON and SARIF reporters (audit/report.c).
 * The contract is ../shared/audit-contract.md. */
#ifndef CASEMATE_AUDIT_FINDING_H
#define CASEMATE_AUDIT_FINDING_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

enum cm_severity {
    CM_SEV_INFO,
    CM_SEV_LOW,
    CM_SEV_MEDIUM,
    CM_SEV_HIGH,
    CM_SEV_CRITICAL,
};

/* A rule's fixed description: one static const table entry per rule id,
 * listed in docs/audit.md and emitted as SARIF rules. */
struct cm_rule {
    const char *id;          /* "CM-DF-004": never reused for another meaning */
    const char *topic;       /* one word of the contract's vocabulary */
    enum cm_severity severity;
    const char *title;       /* one line */
    const char *remediation; /* concrete: a flag, a Dockerfile line */
    const char *references;  /* "CIS 4.1; seed 002" */
};

struct cm_finding {
    const struct cm_rule *rule;
    enum cm_severity severity; /* usually rule->severity */
    char *path;                /* file the finding is in, NULL if none */
    int line;                  /* 0 when no line applies */
    char *evidence;            /* with secret values redacted */
    char *subject;             /* e.g. container name for host/config audits, or NULL */
};

struct cm_report {
    struct cm_finding *findings;
    size_t n;
    size_t cap;
    const char *kind;          /* "dockerfile", "image", "config", "host" */
};

/* Add a finding; copies path/evidence/subject. Returns -1 on ENOMEM. */
int cm_report_add(struct cm_report *r, const struct cm_rule *rule, const char *path, int line,
                  const char *subject, const char *evidence_fmt, ...)
    __attribute__((format(printf, 6, 7)));
void cm_report_free(struct cm_report *r);

const char *cm_severity_name(enum cm_severity s);
int cm_severity_from_name(const char *name); /* -1 if unknown */

/* Replace secret-looking values in `text` with "****" (keeps names). */
char *cm_redact(const char *text);

#endif
