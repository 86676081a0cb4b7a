/* rules_registry.h: every rule table of the auditor in one list, for
 * `casemate audit rules`, docs/audit.md and rule lookups by id. */
#ifndef CASEMATE_AUDIT_RULES_REGISTRY_H
#define CASEMATE_AUDIT_RULES_REGISTRY_H

#include <jansson.h>
#include <stddef.h>

#include "audit/finding.h"

struct cm_rule_table {
    const char *kind;  /* "dockerfile", "image", "config", "host" */
    const char *title; /* section heading */
    const struct cm_rule *rules; /* terminated by {.id = NULL} */
};

/* The tables, in documentation order; *n receives their number. */
const struct cm_rule_table *cm_rule_tables(size_t *n);
/* The rule with this id in any table, or NULL. */
const struct cm_rule *cm_rule_find(const char *id);
/* docs/audit.md, exactly. Caller frees; NULL on ENOMEM. */
char *cm_rules_markdown(void);
/* {"rules": [{"id", "kind", "topic", "severity", "title", "remediation",
 * "references": [...]}]}. NULL on ENOMEM. */
json_t *cm_rules_json(void);

#endif
