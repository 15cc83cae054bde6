/** Per-connector and per-task counters, rendered as Prometheus text on the worker's `/metrics`. */
export type MetricName =
  | 'source_record_poll_total'
  | 'source_record_write_total'
  | 'sink_record_read_total'
  | 'sink_record_send_total'
  | 'task_error_total'
  | 'deadletterqueue_produce_total'
  | 'offset_commit_total'
  | 'record_skipped_total'
  | 'task_start_total'
  | 'transaction_commit_total'
  | 'transaction_abort_total';

const HELP: Record<MetricName, string> = {
  source_record_poll_total: "Records returned by source tasks' poll.",
  source_record_write_total: 'Source records acknowledged by the cluster.',
  sink_record_read_total: 'Records read from the cluster by sink tasks.',
  sink_record_send_total: "Records handed to sink tasks' put.",
  task_error_total: 'Errors met by tasks (tolerated or not).',
  deadletterqueue_produce_total: 'Records written to the dead letter queue.',
  offset_commit_total: 'Offset commits.',
  record_skipped_total: 'Records skipped under errors.tolerance=all.',
  task_start_total: 'Task starts on this worker (a restart or a move counts again).',
  transaction_commit_total: 'Transactions committed by exactly-once source tasks (KIP-618).',
  transaction_abort_total: 'Transactions aborted by exactly-once source tasks (connector-defined boundaries).',
};

export class ConnectMetrics {
  private readonly counters = new Map<string, number>();

  inc(name: MetricName, connector: string, task: number, by = 1): void {
    const key = `${name}\0${connector}\0${task}`;
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  value(name: MetricName, connector: string, task: number): number {
    return this.counters.get(`${name}\0${connector}\0${task}`) ?? 0;
  }

  render(): string {
    const byName = new Map<string, string[]>();
    for (const [key, v] of [...this.counters].sort()) {
      const [name, connector, task] = key.split('\0') as [MetricName, string, string];
      let lines = byName.get(name);
      if (!lines) byName.set(name, (lines = []));
      lines.push(`samsa_connect_${name}{connector="${connector.replace(/["\\\n]/g, '\\$&')}",task="${task}"} ${v}`);
    }
    let out = '';
    for (const [name, lines] of byName) {
      out += `# HELP samsa_connect_${name} ${HELP[name as MetricName]}\n# TYPE samsa_connect_${name} counter\n${lines.join('\n')}\n`;
    }
    return out;
  }
}
