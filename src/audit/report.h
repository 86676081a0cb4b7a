/* report.h: the reporters of `casemate audit`: text grouped by severity,
 * JSON and SARIF 2.1.0 as ../shared/audit-contract.md promises, and the
 * --fail-on exit status. */
#ifndef CASEMATE_AUDIT_REPORT_H
#define CASEMATE_AUDIT_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "audit/finding.h"
#include "util/error.h"

enum cm_report_format { CM_FORMAT_TEXT, CM_FORMAT_JSON, CM_FORMAT_SARIF };

/* "text", "json", "sarif" -> format; -1 if unknown. */
int cm_report_format_from_name(const char *name);

/* Most severe first, then by path, line, rule id (stable, for diffs). */
void cm_report_sort(struct cm_report *r);

/* {"findings": [...], "summary": {...}}. NULL on ENOMEM. */
json_t *cm_report_to_json(const struct cm_report *r);
/* A SARIF 2.1.0 log with one run, one rule per rule id. NULL on ENOMEM. */
json_t *cm_report_to_sarif(const struct cm_report *r);
/* Human-readable, grouped by severity, remediation shown. */
int cm_report_write_text(const struct cm_report *r, FILE *out, bool colour);

/* Sort, then write in `format`; colour only for text on a terminal with
 * NO_COLOR unset (see cm_report_want_colour). */
int cm_report_write(struct cm_report *r, enum cm_report_format format, FILE *out,
                    struct cm_error *err);
bool cm_report_want_colour(FILE *out);

/* 1 when a finding is at or above `fail_on`, else 0 (the exit status). */
int cm_report_exit_status(const struct cm_report *r, enum cm_severity fail_on);

/* The references string "CIS 5.4; seed 003" as a JSON array of strings. */
json_t *cm_rule_references_json(const struct cm_rule *rule);

#endif
