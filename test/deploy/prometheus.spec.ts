import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { arr, obj, readYaml, REPO_ROOT } from './deploy-checks';

const PROMETHEUS_DIR = join(REPO_ROOT, 'deploy', 'prometheus');

// ARCHITECTURE.md section 9; the alerts and the dashboard may use only these.
const METRICS = new Set([
  'jobs',
  'executions_active',
  'executions_total',
  'execution_duration_seconds',
  'bundle_size_bytes',
  'schedule_lag_seconds',
  'slots_total',
  'leader',
  'leader_transitions_total',
  'queue_jobs',
  'upload_failures_total',
  'analysis_outcomes_total',
  'collector_failures_total',
  'notifications_total',
  'redeliveries_total',
  'retries_total',
  'overruns_total',
]);
const HISTOGRAMS = ['execution_duration_seconds', 'bundle_size_bytes', 'schedule_lag_seconds'];

/** cronbundle_* names in a PromQL expression that are not metrics of ours. */
function unknownMetrics(expr: string): string[] {
  return [...expr.matchAll(/\bcronbundle_([a-z_]+)/g)]
    .map((m) => m[1])
    .filter((name) => !METRICS.has(name) && !HISTOGRAMS.includes(name.replace(/_(bucket|sum|count)$/, '')))
    .map((name) => `cronbundle_${name}`);
}

const alertRules = () =>
  arr(obj(readYaml(join(PROMETHEUS_DIR, 'alerts.yml'))).groups).flatMap((g) => arr(obj(g).rules).map(obj));

describe('deploy/prometheus and deploy/grafana', () => {
  it('loads the alert rules, and the scrape job is the one the alerts name', () => {
    const config = obj(readYaml(join(PROMETHEUS_DIR, 'prometheus.yml')));
    for (const file of arr(config.rule_files)) expect(existsSync(join(PROMETHEUS_DIR, String(file)))).toBe(true);
    const jobs = arr(config.scrape_configs).map((s) => obj(s).job_name);
    for (const rule of alertRules()) {
      for (const m of String(rule.expr).matchAll(/job="([^"]+)"/g)) expect(jobs).toContain(m[1]);
    }
  });

  it('alerts on a missing leader, missed slots and a queue backlog, each with a severity and a summary', () => {
    const rules = alertRules();
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['CronbundleNoLeader', 'CronbundleMissedSlots', 'CronbundleQueueBacklog']),
    );
    for (const rule of rules) {
      expect(obj(rule.labels).severity).toMatch(/^(warning|critical)$/);
      expect(obj(rule.annotations).summary).toEqual(expect.any(String));
    }
  });

  it('uses only metric names that the apps export', () => {
    const dashboard = readFileSync(join(REPO_ROOT, 'deploy', 'grafana', 'cronbundle.json'), 'utf8');
    const exprs = [
      ...alertRules().map((r) => String(r.expr)),
      ...arr(obj(JSON.parse(dashboard)).panels).flatMap((p) => arr(obj(p).targets).map((t) => String(obj(t).expr))),
    ];
    expect(exprs.length).toBeGreaterThan(10);
    expect(exprs.flatMap(unknownMetrics)).toEqual([]);
    expect(unknownMetrics('increase(cronbundle_slot_total[5m]) + cronbundle_schedule_lag_seconds_bucket')).toEqual([
      'cronbundle_slot_total',
    ]);
  });
});
