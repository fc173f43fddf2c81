/* SPDX-License-Identifier: MIT */
#include "provisioners/engine.h"
#include "core/cleanup.h"
#include "core/envfile_dump.h"
#include "core/log.h"
#include "core/ssh.h"
#include "provisioners/provisioner.h"
#include "provisioners/record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One machine being provisioned. */
struct pm {
	struct prov_target *t;
	const struct prov_step **steps; /* what runs, in order */
	char **keys; /* per step: what a shared ansible run is keyed on, or NULL */
	size_t n, cursor;
	bool failed, busy;
	json_t *rec; /* provisioned.json */
	struct prov_output out;
	char why[DEN_ERR_MSG_MAX];
};

struct engine {
	struct envfile *ef;
	struct pm *pm;
	size_t n;
	const struct prov_request *req;
};

static bool named(const struct prov_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_with; i++)
		if (strcmp(req->with[i], name) == 0)
			return true;
	return false;
}

static bool wanted(const struct prov_request *req, const char *root, json_t *rec,
		   const struct prov_step *s)
{
	if (req->with != NULL)
		return named(req, s->name);
	if (s->run == RUN_NEVER)
		return false;
	if (req->when == PROV_WHEN_ASKED || s->run == RUN_ALWAYS)
		return true;
	if (!prov_record_succeeded(rec, s->name))
		return true;
	/* A `once` step that ran: say so when its inputs have changed since. */
	char hex[DIGEST_HEX_MAX];
	struct den_err ignored = { 0 };
	const char *was = prov_record_checksum(rec, s->name);
	if (prov_step_checksum(root, s, hex, &ignored) == 0 && was != NULL && strcmp(was, hex) != 0)
		den_warn("step '%s' changed since it ran; `den provision --provision-with %s` "
			 "runs it again",
			 s->name, s->name);
	return false;
}

/* An ansible step without its own limit may be shared: keyed on all its settings but name. */
static char *batch_key(const struct prov_step *s)
{
	if (s->kind != PROV_ANSIBLE || s->ansible.limit != NULL)
		return NULL;
	json_t *j = envfile_step_to_json(s);
	json_object_del(j, "name");
	char *key = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return key;
}

static int plan(struct engine *e, struct pm *p, size_t index, struct den_err *err)
{
	const struct machine *cfg = p->t->dm->cfg;
	cleanup_free const struct prov_step **all = calloc(cfg->n_steps + 1, sizeof(*all));

	p->steps = calloc(cfg->n_steps + 1, sizeof(*p->steps));
	p->keys = calloc(cfg->n_steps + 1, sizeof(*p->keys));
	if (all == NULL || p->steps == NULL || p->keys == NULL)
		return den_err_set(err, ENOMEM, "machine %s", cfg->name);
	prov_output_init(&p->out, cfg->name, (int)index, e->req->color);
	if (prov_record_load(p->t->dm->dir, &p->rec, err) < 0 || prov_order(cfg, all, err) < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_steps; i++) {
		if (!wanted(e->req, e->ef->root, p->rec, all[i]))
			continue;
		const struct provisioner_ops *ops = provisioner_find(all[i]->kind);
		if (ops == NULL)
			return den_err_set(err, 0, "machine %s: this den has no %s provisioner",
					   cfg->name, envfile_prov_kind_name(all[i]->kind));
		if (ops->check != NULL && ops->check(all[i], err) < 0)
			return den_err_wrap(err, "machine %s: step '%s'", cfg->name, all[i]->name);
		p->keys[p->n] = batch_key(all[i]);
		p->steps[p->n++] = all[i];
	}
	return 0;
}

static int engine_reboot(struct prov_ctx *ctx, struct den_err *err);

/* Runs one step on p (for every machine in with[] too: a shared ansible run). */
static void run_step(struct engine *e, struct pm *p, const struct prov_step *step, struct pm **with,
		     size_t n_with)
{
	struct den_machine *dm = p->t->dm;
	struct den_err err = { 0 };
	const char *limit[65]; /* the machine and up to 64 sharing the run */
	size_t n_limit = 0;
	char hex[DIGEST_HEX_MAX] = "";
	struct timespec t0, t1;

	limit[n_limit++] = dm->cfg->name;
	for (size_t i = 0; i < n_with && n_limit < 65; i++)
		limit[n_limit++] = with[i]->t->dm->cfg->name;
	/* ansible runs on the host with its own SSH: a session only for the others. */
	if (p->t->ssh == NULL && step->kind != PROV_ANSIBLE &&
	    e->req->connect(dm, false, &p->t->ssh, e->req->arg, &err) < 0) {
		den_err_wrap(&err, "machine %s", dm->cfg->name);
		goto failed;
	}
	if (n_with > 0) {
		char names[1024] = "";
		for (size_t i = 1; i < n_limit; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), ", %s",
				 limit[i]);
		den_info("%s: running %s '%s' (one run, also for%s)", dm->cfg->name,
			 envfile_prov_kind_name(step->kind), step->name, names + 1);
	} else {
		den_info("%s: running %s '%s'", dm->cfg->name, envfile_prov_kind_name(step->kind),
			 step->name);
	}
	struct prov_ctx ctx = {
		e->ef, dm, p->t->ssh, &p->out, limit, n_limit, engine_reboot, e, 0
	};
	prov_output_reset_tail(&p->out);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = provisioner_find(step->kind)->run(&ctx, step, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	p->t->ssh = ctx.ssh; /* a reboot reconnects */
	prov_output_flush(&p->out);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	struct den_err ignored = { 0 };
	prov_step_checksum(e->ef->root, step, hex, &ignored);
	for (size_t i = 0; i <= n_with; i++) {
		struct pm *q = i == 0 ? p : with[i - 1];
		prov_record_set(q->rec, step, hex, rc == 0, ctx.exit_code, secs);
		if (prov_record_save(q->t->dm->dir, q->rec, &ignored) < 0)
			den_warn("%s", ignored.msg);
	}
	if (rc == 0)
		return;
failed:
	for (size_t i = 0; i <= n_with; i++) {
		struct pm *q = i == 0 ? p : with[i - 1];
		q->failed = true;
		snprintf(q->why, sizeof(q->why), "%s", err.msg);
	}
}

static void run_until(struct engine *e, struct pm *p, size_t stop);

/* p reached a shared ansible step: bring the machines sharing it up to it, run it once. */
static void run_shared(struct engine *e, struct pm *p)
{
	const char *key = p->keys[p->cursor];
	struct pm *with[64];
	size_t n_with = 0;

	for (size_t j = 0; j < e->n && n_with < 64; j++) {
		struct pm *q = &e->pm[j];
		if (q == p || q->failed || q->busy)
			continue;
		size_t pos = q->cursor;
		while (pos < q->n && (q->keys[pos] == NULL || strcmp(q->keys[pos], key) != 0))
			pos++;
		if (pos == q->n)
			continue;
		q->busy = true;
		run_until(e, q, pos);
		q->busy = false;
		if (!q->failed && q->cursor == pos)
			with[n_with++] = q;
	}
	run_step(e, p, p->steps[p->cursor], with, n_with);
	for (size_t i = 0; i < n_with; i++)
		with[i]->cursor++;
}

static void run_until(struct engine *e, struct pm *p, size_t stop)
{
	while (p->cursor < stop && !p->failed) {
		if (p->keys[p->cursor] != NULL)
			run_shared(e, p);
		else
			run_step(e, p, p->steps[p->cursor], NULL, 0);
		p->cursor++;
	}
}

static int engine_reboot(struct prov_ctx *ctx, struct den_err *err)
{
	struct engine *e = ctx->engine;
	struct pm *p = NULL;

	for (size_t i = 0; i < e->n && p == NULL; i++)
		if (e->pm[i].t->dm == ctx->machine)
			p = &e->pm[i];
	if (p == NULL || e->req->restart == NULL)
		return den_err_set(err, 0, "den cannot restart the machine from here");
	den_info("%s: rebooting", ctx->machine->cfg->name);
	den_ssh_close(ctx->ssh);
	ctx->ssh = p->t->ssh = NULL;
	if (e->req->restart(ctx->machine, e->req->arg, err) < 0 ||
	    e->req->connect(ctx->machine, true, &p->t->ssh, e->req->arg, err) < 0)
		return -1;
	ctx->ssh = p->t->ssh;
	return 0;
}

static int check_names(const struct engine *e, const struct prov_request *req, struct den_err *err)
{
	for (size_t k = 0; k < req->n_with; k++) {
		bool found = false;
		for (size_t i = 0; i < e->n && !found; i++) {
			const struct machine *cfg = e->pm[i].t->dm->cfg;
			for (size_t s = 0; s < cfg->n_steps && !found; s++)
				found = strcmp(cfg->steps[s].name, req->with[k]) == 0;
		}
		if (!found)
			return den_err_usage(err,
					     "--provision-with %s: no machine here has a step of "
					     "that name (`den validate --json` lists them)",
					     req->with[k]);
	}
	return 0;
}

int provision_machines(struct envfile *ef, struct prov_target *t, size_t n,
		       const struct prov_request *req, struct den_err *err)
{
	struct engine e = { ef, calloc(n + 1, sizeof(struct pm)), n, req };
	int rc = 0;

	if (e.pm == NULL)
		return den_err_set(err, ENOMEM, "cannot provision");
	for (size_t i = 0; i < n; i++)
		e.pm[i].t = &t[i];
	rc = check_names(&e, req, err);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = plan(&e, &e.pm[i], i, err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		e.pm[i].busy = true;
		run_until(&e, &e.pm[i], e.pm[i].n);
		e.pm[i].busy = false;
	}
	if (rc == 0) {
		char msg[DEN_ERR_MSG_MAX] = "";
		size_t o = 0;
		for (size_t i = 0; i < n; i++)
			if (e.pm[i].failed && o < sizeof(msg))
				o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%s%s",
						      o ? "\n" : "", e.pm[i].why);
		if (o > 0)
			rc = den_err_set(err, 0, "%s", msg);
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < e.pm[i].n; k++)
			free(e.pm[i].keys[k]);
		free(e.pm[i].keys);
		free(e.pm[i].steps);
		json_decref(e.pm[i].rec);
		den_ssh_close(t[i].ssh);
		t[i].ssh = NULL;
	}
	free(e.pm);
	return rc;
}
