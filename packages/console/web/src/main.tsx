// Samsa Console: the page. Hash routes (#/overview, #/topics, #/topics/T, #/topics/T/messages,
// #/groups, #/groups/G, #/metrics, #/schemas, #/schemas/S, #/connect); every live view polls the console server once a second.
import { type ComponentChildren, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, enc, failureKind, refusal, usePoll } from './api.js';
import { TimeChart, color } from './chart.js';
import { ConnectView, SchemasView, SubjectView } from './eco.js';
import { FilterBox, KeyHint, Pager, SortHeader, useRowNav, useTable } from './paged.js';
import './style.css';

// ---- shared bits ----

function useRoute(): string[] {
  const parse = () => (location.hash.replace(/^#\/?/, '') || 'overview').split('/').map(decodeURIComponent);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

/**
 * The error states: the cluster does not answer (broker down), the console server does not answer,
 * no permission (an authorization failure from the brokers' ACLs), not found, or a refusal. `children`
 * is a way out (a link back to the list).
 */
function ErrorBox(props: { error: ApiError | undefined; what: string; children?: ComponentChildren }) {
  if (!props.error) return null;
  const e = props.error;
  const kind = failureKind(e);
  const head = {
    down: `Cannot load ${props.what}: the cluster does not answer (are the brokers down?). Retrying every second.`,
    'console-down': `Cannot load ${props.what}: the console server does not answer. Retrying every second.`,
    forbidden: `You have no permission to see ${props.what}: the cluster's ACLs refused it.`,
    'not-found': `Not found: ${props.what} does not exist.`,
    refused: `Cannot load ${props.what}.`,
  }[kind];
  return (
    <div class="error" role="alert" data-testid="error" data-kind={kind}>
      <strong>{head}</strong>
      <div>{refusal(e)}</div>
      {props.children}
    </div>
  );
}

function Loading(props: { what: string }) {
  return <p class="loading" aria-busy="true">Loading {props.what}…</p>;
}

const list = (xs: number[]) => xs.join(',');

// ---- overview ----

interface Overview {
  clusterId: string; controllerId: number;
  brokers: Array<{ id: number; address: string; fenced: boolean; leaders: number; replicas: number }>;
  health: { topics: number; partitions: number; underReplicated: number; underMinIsr: number; offline: number };
  quorum: { leaderId: number; leaderEpoch: number; highWatermark: string; voters: Array<{ id: number; logEndOffset: string; lag: string }> } | null;
}

function rate(bytesPerSec: number): string {
  if (bytesPerSec >= 1e6) return `${(bytesPerSec / 1e6).toFixed(1)} MB/s`;
  if (bytesPerSec >= 1e3) return `${(bytesPerSec / 1e3).toFixed(1)} kB/s`;
  return `${bytesPerSec.toFixed(0)} B/s`;
}

function OverviewView() {
  const { data, error } = usePoll<Overview>('/api/overview');
  const metrics = usePoll<{ available: boolean; history: MetricsPoint[] }>('/api/metrics');
  const last = metrics.data?.history.at(-1);
  return (
    <section aria-labelledby="h-overview">
      <h1 id="h-overview">Overview</h1>
      <ErrorBox error={error} what="the overview" />
      {!data ? (error ? null : <Loading what="the cluster" />) : (
        <>
          <p class="muted">Cluster <code>{data.clusterId}</code> · active controller {data.controllerId}</p>
          <div class="cards">
            <Card label="Topics" value={data.health.topics} />
            <Card label="Partitions" value={data.health.partitions} />
            <Card label="Under-replicated" value={data.health.underReplicated} bad={data.health.underReplicated > 0} testId="under-replicated" />
            <Card label="Under min ISR" value={data.health.underMinIsr} bad={data.health.underMinIsr > 0} />
            <Card label="Offline" value={data.health.offline} bad={data.health.offline > 0} testId="offline" />
            {last ? <div class="card" data-testid="throughput"><div class="value">{rate(last.bytesInPerSec)}</div><div class="label">in · {rate(last.bytesOutPerSec)} out</div></div> : null}
          </div>
          <h2>Brokers</h2>
          <table data-testid="brokers">
            <thead><tr><th>ID</th><th>Address</th><th>State</th><th>Leaders</th><th>Replicas</th></tr></thead>
            <tbody>
              {data.brokers.map((b) => (
                <tr key={b.id} data-broker={b.id}>
                  <td>{b.id}</td><td>{b.address || '—'}</td>
                  <td class="state"><span class={b.fenced ? 'badge bad' : 'badge ok'}>{b.fenced ? 'fenced' : 'unfenced'}</span></td>
                  <td>{b.leaders}</td><td>{b.replicas}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Controller quorum</h2>
          {!data.quorum ? <p class="empty">The quorum did not answer DescribeQuorum.</p> : (
            <table data-testid="quorum">
              <thead><tr><th>Voter</th><th>Role</th><th>Log end offset</th><th>Lag</th></tr></thead>
              <tbody>
                {data.quorum.voters.map((v) => (
                  <tr key={v.id}><td>{v.id}</td><td>{v.id === data.quorum!.leaderId ? 'Leader' : 'Follower'}</td><td>{v.logEndOffset}</td><td>{v.lag}</td></tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

function Card(props: { label: string; value: number; bad?: boolean; testId?: string }) {
  return <div class={props.bad ? 'card bad' : 'card'} data-testid={props.testId}><div class="value">{props.value}</div><div class="label">{props.label}</div></div>;
}

// ---- topics ----

interface TopicPage { total: number; page: number; pageSize: number; rows: Array<{ name: string; partitions: number; replicationFactor: number; underReplicated: number; offline: number; internal: boolean }> }

function TopicsView() {
  const table = useTable({ page: 1, pageSize: 50, sort: 'name', order: 'asc', search: '' });
  const { data, error, refresh } = usePoll<TopicPage>(`/api/topics?${table.query}`, 1000, true);
  const rows = data?.rows ?? [];
  const nav = useRowNav({ table, rows: rows.length, total: data?.total ?? 0, shownPage: data?.page, onOpen: (i) => { location.hash = `#/topics/${enc(rows[i]!.name)}`; } });
  return (
    <section aria-labelledby="h-topics">
      <h1 id="h-topics">Topics</h1>
      <CreateTopic onCreated={refresh} />
      <FilterBox table={table} label="Filter by name" testId="topic-search" />
      <ErrorBox error={error} what="topics" />
      {!data ? (error ? null : <Loading what="topics" />) : data.total === 0 ? (
        <p class="empty" data-testid="topics-empty">{table.state.search ? `No topic name contains “${table.state.search}”.` : 'No topics yet. Create one above.'}</p>
      ) : (
        <>
          <KeyHint />
          <table data-testid="topics" aria-rowcount={data.total + 1} aria-describedby="table-keys">
            <thead><tr><SortHeader table={table} column="name" label="Name" /><SortHeader table={table} column="partitions" label="Partitions" /><SortHeader table={table} column="replicationFactor" label="RF" /><SortHeader table={table} column="underReplicated" label="Under-replicated" /><th>Offline</th></tr></thead>
            <tbody {...nav.bodyProps}>
              {rows.map((t, i) => (
                <tr key={t.name} data-topic={t.name} {...nav.rowProps(i)}>
                  <td><a href={`#/topics/${enc(t.name)}`} tabIndex={-1}>{t.name}</a>{t.internal ? <span class="badge">internal</span> : null}</td>
                  <td>{t.partitions}</td><td>{t.replicationFactor}</td><td>{t.underReplicated}</td><td>{t.offline}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager table={table} total={data.total} noun="topics" testId="topics-pager" />
        </>
      )}
    </section>
  );
}

function CreateTopic(props: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [partitions, setPartitions] = useState('3');
  const [rf, setRf] = useState('3');
  const [configs, setConfigs] = useState('');
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const submit = (e: Event) => {
    e.preventDefault();
    let cfg: Record<string, string>;
    try {
      cfg = parsePairs(configs);
    } catch (err) {
      setMsg({ ok: false, text: String(err) });
      return;
    }
    api('/api/topics', { method: 'POST', body: { name, partitions, replicationFactor: rf, configs: cfg } }).then(
      () => { setMsg({ ok: true, text: `Created topic ${name}.` }); setName(''); props.onCreated(); },
      (err: ApiError) => setMsg({ ok: false, text: refusal(err) }),
    );
  };
  return (
    <form class="panel" onSubmit={submit} aria-label="create a topic" data-testid="create-topic">
      <h2>Create a topic</h2>
      <label>Name <input name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} /></label>
      <label>Partitions <input name="partitions" inputMode="numeric" value={partitions} onInput={(e) => setPartitions(e.currentTarget.value)} /></label>
      <label>Replication factor <input name="replicationFactor" inputMode="numeric" value={rf} onInput={(e) => setRf(e.currentTarget.value)} /></label>
      <label>Configs (name=value, one a line) <textarea name="configs" rows={2} value={configs} onInput={(e) => setConfigs(e.currentTarget.value)} /></label>
      <button type="submit">Create</button>
      {msg ? <p role="status" class={msg.ok ? 'ok' : 'error'}>{msg.text}</p> : null}
    </form>
  );
}

function parsePairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const i = line.indexOf('=');
    if (i <= 0) throw new Error(`'${line}' is not name=value`);
    out[line.slice(0, i).trim()] = line.slice(i + 1);
  }
  return out;
}

interface PartitionView { partition: number; leader: number; leaderEpoch: number; replicas: number[]; isr: number[]; offlineReplicas: number[]; logStartOffset: string | null; highWatermark: string | null }
interface TopicDetail {
  name: string; internal: boolean; partitionCount: number; total: number; page: number | null; pageSize: number | null;
  partitions: PartitionView[];
}

function TopicView(props: { name: string }) {
  const table = useTable({ page: 1, pageSize: 50, sort: 'partition', order: 'asc', search: '', filters: {} });
  // One page of the partition table, asked again every second: a broker kill shows on the visible
  // page within about a second plus the cluster's own detection time, and nothing else is fetched.
  const { data, error } = usePoll<TopicDetail>(`/api/topics/${enc(props.name)}?${table.query}`, 1000, true);
  const [msg, setMsg] = useState<string | null>(null);
  const rows = data?.partitions ?? [];
  const nav = useRowNav({ table, rows: rows.length, total: data?.total ?? 0, shownPage: data?.page, onOpen: (i) => { location.hash = `#/topics/${enc(props.name)}/messages/${rows[i]!.partition}`; } });
  const del = () => {
    if (!confirm(`Delete topic ${props.name}? Its records are lost.`)) return;
    api(`/api/topics/${enc(props.name)}`, { method: 'DELETE' }).then(
      () => { location.hash = '#/topics'; },
      (e: ApiError) => setMsg(refusal(e)),
    );
  };
  const missing = error !== undefined && failureKind(error) === 'not-found';
  const filters = table.state.filters ?? {};
  return (
    <section aria-labelledby="h-topic">
      <h1 id="h-topic">Topic {props.name}</h1>
      {missing ? null : <p><a href={`#/topics/${enc(props.name)}/messages`}>Browse and produce messages</a> · <button class="danger" onClick={del}>Delete topic</button></p>}
      {msg ? <p role="alert" class="error">{msg}</p> : null}
      <ErrorBox error={error} what={`topic ${props.name}`}>{missing ? <p><a href="#/topics">Back to the topics</a></p> : null}</ErrorBox>
      {missing ? null : (
        <>
          <h2>Partitions{data ? ` (${data.partitionCount})` : ''}</h2>
          <div class="filters" role="group" aria-label="filter the partitions">
            <FilterBox table={table} label="Partition number contains" testId="partition-search" />
            <label class="inline"><input type="checkbox" checked={filters['underReplicated'] === true} onChange={(e) => table.setFilter('underReplicated', e.currentTarget.checked)} data-testid="filter-under-replicated" /> Under-replicated only</label>
            <label class="inline"><input type="checkbox" checked={filters['offline'] === true} onChange={(e) => table.setFilter('offline', e.currentTarget.checked)} data-testid="filter-offline" /> Offline only</label>
            <label class="inline">Leader <input inputMode="numeric" size={4} value={String(filters['leader'] ?? '')} onInput={(e) => table.setFilter('leader', /^\d+$/.test(e.currentTarget.value) ? e.currentTarget.value : undefined)} data-testid="filter-leader" /></label>
          </div>
          {!data ? (error ? null : <Loading what="partitions" />) : data.total === 0 ? (
            <p class="empty" data-testid="partitions-empty">No partition matches these filters ({data.partitionCount} in the topic).</p>
          ) : (
            <>
              <KeyHint />
              <table data-testid="partitions" aria-rowcount={data.total + 1} aria-describedby="table-keys">
                <thead><tr><SortHeader table={table} column="partition" label="Partition" /><SortHeader table={table} column="leader" label="Leader" /><th>Replicas</th><SortHeader table={table} column="isr" label="ISR" /><th>Leader epoch</th><SortHeader table={table} column="logStartOffset" label="Log start" /><SortHeader table={table} column="highWatermark" label="High watermark" /></tr></thead>
                <tbody {...nav.bodyProps}>
                  {rows.map((p, i) => (
                    <tr key={p.partition} data-partition={p.partition} class={p.isr.length < p.replicas.length ? 'warn' : ''} {...nav.rowProps(i)}>
                      <td>{p.partition}</td><td class="leader">{p.leader < 0 ? 'none' : p.leader}</td><td class="replicas">{list(p.replicas)}</td>
                      <td class="isr">{list(p.isr)}</td><td>{p.leaderEpoch}</td><td>{p.logStartOffset ?? '?'}</td><td class="hw">{p.highWatermark ?? '?'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager table={table} total={data.total} noun="partitions" testId="partitions-pager" />
            </>
          )}
          <p class="muted" data-testid="add-partitions">Adding partitions is not available: the cluster has no CreatePartitions API yet.</p>
          <TopicConfigs name={props.name} />
        </>
      )}
    </section>
  );
}

interface ConfigEntry { name: string; value: string; source: string; readOnly: boolean; sensitive: boolean }

function TopicConfigs(props: { name: string }) {
  const { data, error, refresh } = usePoll<{ configs: ConfigEntry[] }>(`/api/topics/${enc(props.name)}/configs`, 0);
  const [edit, setEdit] = useState<Record<string, string>>({});
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const save = (name: string, del: boolean) => {
    const body = del ? { delete: [name] } : { set: { [name]: edit[name] ?? '' } };
    api(`/api/topics/${enc(props.name)}/configs`, { method: 'PATCH', body }).then(
      () => { setMsg({ ok: true, text: del ? `${name} is back to its default.` : `Set ${name}.` }); refresh(); },
      (e: ApiError) => setMsg({ ok: false, text: refusal(e) }),
    );
  };
  return (
    <>
      <h2>Configs</h2>
      <ErrorBox error={error} what="configs" />
      {msg ? <p role="status" class={msg.ok ? 'ok' : 'error'}>{msg.text}</p> : null}
      {!data ? null : (
        <table data-testid="configs">
          <thead><tr><th>Name</th><th>Value</th><th>Source</th><th>Edit</th></tr></thead>
          <tbody>
            {data.configs.map((c) => (
              <tr key={c.name} data-config={c.name}>
                <td><code>{c.name}</code></td><td>{c.sensitive ? '(sensitive)' : c.value}</td><td>{c.source}</td>
                <td>{c.readOnly ? 'read-only' : (
                  <span class="edit">
                    <input aria-label={`new value of ${c.name}`} value={edit[c.name] ?? c.value} onInput={(e) => setEdit({ ...edit, [c.name]: e.currentTarget.value })} onKeyDown={(e) => { if (e.key === 'Enter') save(c.name, false); }} />
                    <button onClick={() => save(c.name, false)}>Set</button>
                    {c.source === 'topic' ? <button onClick={() => save(c.name, true)}>Reset</button> : null}
                  </span>
                )}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

// ---- messages ----

interface BytesView { text: string | null; json?: unknown; hex: string; size: number }
interface RecordView { partition: number; offset: string; timestamp: string; key: BytesView | null; value: BytesView | null; headers: Array<{ key: string; value: BytesView | null }> }
interface MessagePage { logStartOffset: string; highWatermark: string; start: string; nextOffset: string; scanned: number; records: RecordView[] }

function show(b: BytesView | null, format: string): string {
  if (b === null) return 'null';
  if (format === 'hex') return b.hex;
  if (format === 'json' && b.json !== undefined) return JSON.stringify(b.json, null, 2);
  return b.text ?? `(binary) ${b.hex}`;
}

function MessagesView(props: { name: string; partition?: string }) {
  // Only the partition count (a page of one row): the pickers are number fields, not a list of
  // every partition, so a 10,000-partition topic costs nothing here.
  const topic = usePoll<TopicDetail>(`/api/topics/${enc(props.name)}?pageSize=1`, 0);
  const count = topic.data?.partitionCount;
  const [partition, setPartition] = useState(props.partition ?? '0');
  const [from, setFrom] = useState('newest');
  const [offset, setOffset] = useState('0');
  const [timestamp, setTimestamp] = useState('');
  const [limit, setLimit] = useState('50');
  const [filter, setFilter] = useState('');
  const [format, setFormat] = useState('json');
  const [query, setQuery] = useState<string | null>(null);
  const page = usePoll<MessagePage>(query, 0);
  const load = (f = from, o = offset) => {
    const q = new URLSearchParams({ partition, from: f, limit, filter });
    if (f === 'offset') q.set('offset', o);
    if (f === 'timestamp') q.set('timestamp', timestamp);
    setQuery(`/api/topics/${enc(props.name)}/messages?${q.toString()}&t=${Date.now()}`);
  };
  useEffect(() => { load(); }, [props.name]);
  const older = () => {
    if (!page.data) return;
    const o = BigInt(page.data.start) - BigInt(limit);
    const s = (o < BigInt(page.data.logStartOffset) ? BigInt(page.data.logStartOffset) : o).toString();
    setFrom('offset'); setOffset(s); load('offset', s);
  };
  const newer = () => {
    if (!page.data) return;
    setFrom('offset'); setOffset(page.data.nextOffset); load('offset', page.data.nextOffset);
  };
  return (
    <section aria-labelledby="h-messages">
      <h1 id="h-messages">Messages of <a href={`#/topics/${enc(props.name)}`}>{props.name}</a></h1>
      <form class="panel row" onSubmit={(e) => { e.preventDefault(); load(); }} aria-label="choose records" data-testid="browse">
        <label>Partition{count === undefined ? '' : ` (0–${count - 1})`} <input name="partition" type="number" min={0} max={count === undefined ? undefined : count - 1} size={6} value={partition} onInput={(e) => setPartition(e.currentTarget.value)} /></label>
        <label>From <select value={from} onChange={(e) => setFrom(e.currentTarget.value)} name="from">
          <option value="newest">newest</option><option value="earliest">earliest</option><option value="offset">offset</option><option value="timestamp">timestamp</option>
        </select></label>
        {from === 'offset' ? <label>Offset <input name="offset" value={offset} onInput={(e) => setOffset(e.currentTarget.value)} /></label> : null}
        {from === 'timestamp' ? <label>Time (ISO 8601 or ms) <input name="timestamp" value={timestamp} onInput={(e) => setTimestamp(e.currentTarget.value)} /></label> : null}
        <label>Page size <input name="limit" inputMode="numeric" size={4} value={limit} onInput={(e) => setLimit(e.currentTarget.value)} /></label>
        <label>Filter <input name="filter" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} /></label>
        <label>Show as <select value={format} onChange={(e) => setFormat(e.currentTarget.value)} name="format">
          <option value="json">JSON</option><option value="string">string</option><option value="hex">hex</option>
        </select></label>
        <button type="submit">Load</button>
      </form>
      <ErrorBox error={topic.error} what={`topic ${props.name}`}>{topic.error && failureKind(topic.error) === 'not-found' ? <p><a href="#/topics">Back to the topics</a></p> : null}</ErrorBox>
      <ErrorBox error={page.error} what="records" />
      {!page.data ? (page.error ? null : <Loading what="records" />) : (
        <>
          <p class="muted">Log start offset {page.data.logStartOffset} · high watermark {page.data.highWatermark} · showing from offset {page.data.start} · scanned {page.data.scanned}</p>
          <nav class="pager" aria-label="record pages">
            <button onClick={older} disabled={BigInt(page.data.start) <= BigInt(page.data.logStartOffset)}>Older</button>
            <button onClick={newer} disabled={BigInt(page.data.nextOffset) >= BigInt(page.data.highWatermark)}>Newer</button>
            <button onClick={() => { setFrom('newest'); load('newest'); }}>Newest</button>
          </nav>
          {page.data.records.length === 0 ? <p class="empty">No records here{filter ? ` matching “${filter}”` : ''}.</p> : (
            <table data-testid="records">
              <thead><tr><th>Offset</th><th>Timestamp</th><th>Key</th><th>Value</th><th>Headers</th></tr></thead>
              <tbody>
                {page.data.records.map((r) => (
                  <tr key={r.offset} data-offset={r.offset}>
                    <td>{r.offset}</td><td>{new Date(Number(r.timestamp)).toISOString()}</td>
                    <td class="key"><pre>{show(r.key, format)}</pre></td>
                    <td class="value"><pre>{show(r.value, format)}</pre></td>
                    <td class="headers">{r.headers.map((h) => <div key={h.key}><code>{h.key}</code>={show(h.value, format === 'json' ? 'string' : format)}</div>)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      <ProduceForm topic={props.name} partitionCount={count} onProduced={() => load()} />
    </section>
  );
}

function ProduceForm(props: { topic: string; partitionCount: number | undefined; onProduced: () => void }) {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [headers, setHeaders] = useState('');
  const [partition, setPartition] = useState('');
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const submit = (e: Event) => {
    e.preventDefault();
    let h: Record<string, string>;
    try { h = parsePairs(headers); } catch (err) { setMsg({ ok: false, text: String(err) }); return; }
    api<{ partition: number; offset: string }>(`/api/topics/${enc(props.topic)}/messages`, { method: 'POST', body: { key, value, headers: h, partition } }).then(
      (r) => { setMsg({ ok: true, text: `Produced to partition ${r.partition} at offset ${r.offset}.` }); props.onProduced(); },
      (err: ApiError) => setMsg({ ok: false, text: refusal(err) }),
    );
  };
  return (
    <form class="panel" onSubmit={submit} aria-label="produce a record" data-testid="produce">
      <h2>Produce a record</h2>
      <label>Key <input name="key" value={key} onInput={(e) => setKey(e.currentTarget.value)} /></label>
      <label>Value <textarea name="value" rows={3} value={value} onInput={(e) => setValue(e.currentTarget.value)} /></label>
      <label>Headers (name=value, one a line) <textarea name="headers" rows={2} value={headers} onInput={(e) => setHeaders(e.currentTarget.value)} /></label>
      <label>Partition (empty: by key){props.partitionCount === undefined ? '' : ` 0–${props.partitionCount - 1}`} <input name="partition" type="number" min={0} max={props.partitionCount === undefined ? undefined : props.partitionCount - 1} size={6} placeholder="by key" value={partition} onInput={(e) => setPartition(e.currentTarget.value)} /></label>
      <button type="submit">Produce</button>
      {msg ? <p role="status" class={msg.ok ? 'ok' : 'error'}>{msg.text}</p> : null}
    </form>
  );
}

// ---- groups ----

function GroupsView() {
  const { data, error } = usePoll<{ groups: Array<{ groupId: string; state: string; protocolType: string; coordinator: number }> }>('/api/groups');
  return (
    <section aria-labelledby="h-groups">
      <h1 id="h-groups">Consumer groups</h1>
      <ErrorBox error={error} what="consumer groups" />
      {!data ? (error ? null : <Loading what="groups" />) : data.groups.length === 0 ? <p class="empty">No consumer groups yet.</p> : (
        <table data-testid="groups">
          <thead><tr><th>Group</th><th>State</th><th>Protocol type</th><th>Coordinator</th></tr></thead>
          <tbody>{data.groups.map((g) => (
            <tr key={g.groupId} data-group={g.groupId}><td><a href={`#/groups/${enc(g.groupId)}`}>{g.groupId}</a></td><td>{g.state}</td><td>{g.protocolType || '—'}</td><td>{g.coordinator}</td></tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}

interface GroupDetail {
  groupId: string; state: string; protocolType: string; protocol: string; generationId: number; coordinator: number; totalLag: string;
  members: Array<{ memberId: string; clientId: string; clientHost: string; assignment: Array<{ topic: string; partition: number }> }>;
  partitions: Array<{ topic: string; partition: number; committedOffset: string | null; logEndOffset: string; lag: string | null; memberId: string | null; clientId: string | null }>;
}

function GroupView(props: { id: string }) {
  const { data, error } = usePoll<GroupDetail>(`/api/groups/${enc(props.id)}`);
  const [history, setHistory] = useState<{ times: number[]; lag: number[] }>({ times: [], lag: [] });
  useEffect(() => {
    if (!data) return;
    setHistory((h) => ({ times: [...h.times, Date.now() / 1000].slice(-300), lag: [...h.lag, Number(data.totalLag)].slice(-300) }));
  }, [data]);
  return (
    <section aria-labelledby="h-group">
      <h1 id="h-group">Group {props.id}</h1>
      <ErrorBox error={error} what={`group ${props.id}`} />
      {!data ? (error ? null : <Loading what="the group" />) : (
        <>
          <p>State <strong data-testid="group-state">{data.state}</strong> · protocol {data.protocol || '—'} ({data.protocolType || '—'}) · generation {data.generationId} · coordinator {data.coordinator} · total lag <strong data-testid="total-lag">{data.totalLag}</strong></p>
          <TimeChart title="Total lag over time" times={history.times} series={[{ label: 'lag', values: history.lag, color: color(1) }]} unit="records" testId="lag-chart" />
          <h2>Members</h2>
          {data.members.length === 0 ? <p class="empty">No active members.</p> : (
            <table><thead><tr><th>Member</th><th>Client</th><th>Host</th><th>Assignment</th></tr></thead>
              <tbody>{data.members.map((m) => (
                <tr key={m.memberId}><td><code>{m.memberId}</code></td><td>{m.clientId}</td><td>{m.clientHost}</td><td>{m.assignment.map((a) => `${a.topic}-${a.partition}`).join(', ')}</td></tr>
              ))}</tbody></table>
          )}
          <h2>Offsets and lag</h2>
          {data.partitions.length === 0 ? <p class="empty">No committed offsets.</p> : (
            <table data-testid="group-offsets">
              <thead><tr><th>Topic</th><th>Partition</th><th>Committed offset</th><th>Log end offset</th><th>Lag</th><th>Consumer</th></tr></thead>
              <tbody>{data.partitions.map((p) => (
                <tr key={`${p.topic}-${p.partition}`} data-tp={`${p.topic}-${p.partition}`}>
                  <td>{p.topic}</td><td>{p.partition}</td><td class="committed">{p.committedOffset ?? '-'}</td><td class="leo">{p.logEndOffset}</td><td class="lag">{p.lag ?? '-'}</td><td>{p.clientId ?? '-'}</td>
                </tr>
              ))}</tbody>
            </table>
          )}
          <ResetOffsets id={props.id} />
        </>
      )}
    </section>
  );
}

function ResetOffsets(props: { id: string }) {
  const [to, setTo] = useState('earliest');
  const [value, setValue] = useState('');
  const [plan, setPlan] = useState<{ executed: boolean; plan: Array<{ topic: string; partition: number; currentOffset: string | null; newOffset: string }> } | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  const run = (execute: boolean) => {
    api<NonNullable<typeof plan>>(`/api/groups/${enc(props.id)}/reset-offsets`, { method: 'POST', body: { to, value, topics: 'all', execute } }).then(
      (p) => { setPlan(p); setMsg(null); },
      (e: ApiError) => { setMsg(refusal(e)); setPlan(null); },
    );
  };
  return (
    <form class="panel" onSubmit={(e) => { e.preventDefault(); run(false); }} aria-label="reset offsets" data-testid="reset">
      <h2>Reset offsets</h2>
      <p class="muted">As <code>samsa groups --reset-offsets --all-topics</code>: only while the group has no active members. A dry run shows the plan first.</p>
      <label>To <select value={to} onChange={(e) => { setTo(e.currentTarget.value); setPlan(null); }}>
        <option value="earliest">earliest</option><option value="latest">latest</option><option value="offset">offset</option><option value="shift">shift by</option><option value="datetime">date-time</option>
      </select></label>
      {to === 'earliest' || to === 'latest' ? null : <label>Value <input value={value} onInput={(e) => { setValue(e.currentTarget.value); setPlan(null); }} /></label>}
      <button type="submit">Dry run</button>
      <button type="button" disabled={!plan || plan.executed} onClick={() => run(true)}>Execute</button>
      {msg ? <p role="alert" class="error">{msg}</p> : null}
      {plan ? (
        <table><caption>{plan.executed ? 'Offsets reset' : 'Dry run: nothing changed yet'}</caption>
          <thead><tr><th>Topic</th><th>Partition</th><th>Current</th><th>New</th></tr></thead>
          <tbody>{plan.plan.map((p) => <tr key={`${p.topic}-${p.partition}`}><td>{p.topic}</td><td>{p.partition}</td><td>{p.currentOffset ?? '-'}</td><td>{p.newOffset}</td></tr>)}</tbody>
        </table>
      ) : null}
    </form>
  );
}

// ---- metrics ----

interface MetricsPoint {
  time: number; produceRequestsPerSec: number; fetchRequestsPerSec: number; bytesInPerSec: number; bytesOutPerSec: number;
  produceLatency: { p50: number | null; p99: number | null }; fetchLatency: { p50: number | null; p99: number | null };
}

function MetricsView() {
  const { data, error } = usePoll<{ nodes: string[]; available: boolean; history: MetricsPoint[] }>('/api/metrics');
  const h = data?.history ?? [];
  const times = h.map((p) => p.time / 1000);
  const ms = (v: number | null) => (v === null ? null : v * 1000);
  return (
    <section aria-labelledby="h-metrics">
      <h1 id="h-metrics">Metrics</h1>
      <ErrorBox error={error} what="metrics" />
      {!data ? (error ? null : <Loading what="metrics" />) : data.nodes.length === 0 ? (
        <p class="empty">No metrics listeners given: start the console with <code>--metrics-servers host:port,...</code> (the nodes' <code>--metrics-port</code>).</p>
      ) : (
        <div class="charts">
          <p class="muted">From {data.nodes.join(', ')}</p>
          <TimeChart title="Requests per second" times={times} unit="req/s" testId="chart-requests"
            series={[{ label: 'produce', values: h.map((p) => p.produceRequestsPerSec), color: color(0) }, { label: 'fetch', values: h.map((p) => p.fetchRequestsPerSec), color: color(2) }]} />
          <TimeChart title="Bytes per second" times={times} unit="B/s" testId="chart-bytes"
            series={[{ label: 'in', values: h.map((p) => p.bytesInPerSec), color: color(0) }, { label: 'out', values: h.map((p) => p.bytesOutPerSec), color: color(2) }]} />
          <TimeChart title="Latency (ms)" times={times} unit="ms" testId="chart-latency"
            series={[
              { label: 'produce p50', values: h.map((p) => ms(p.produceLatency.p50)), color: color(0) },
              { label: 'produce p99', values: h.map((p) => ms(p.produceLatency.p99)), color: color(1) },
              { label: 'fetch p50', values: h.map((p) => ms(p.fetchLatency.p50)), color: color(2) },
              { label: 'fetch p99', values: h.map((p) => ms(p.fetchLatency.p99)), color: color(3) },
            ]} />
        </div>
      )}
    </section>
  );
}

// ---- shell ----

function App() {
  const route = useRoute();
  const [head, a, b, c] = route;
  let view;
  if (head === 'topics' && a && b === 'messages') view = <MessagesView key={`${a}/${c ?? ''}`} name={a} {...(c === undefined ? {} : { partition: c })} />;
  else if (head === 'topics' && a) view = <TopicView key={a} name={a} />;
  else if (head === 'topics') view = <TopicsView />;
  else if (head === 'groups' && a) view = <GroupView id={a} />;
  else if (head === 'groups') view = <GroupsView />;
  else if (head === 'metrics') view = <MetricsView />;
  else if (head === 'schemas' && a) view = <SubjectView subject={a} />;
  else if (head === 'schemas') view = <SchemasView />;
  else if (head === 'connect') view = <ConnectView />;
  else view = <OverviewView />;
  const tab = (to: string, label: string) => <a href={`#/${to}`} aria-current={head === to || (to === 'overview' && !['topics', 'groups', 'metrics', 'schemas', 'connect'].includes(head ?? '')) ? 'page' : undefined}>{label}</a>;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header><span class="brand">Samsa Console</span><nav aria-label="views">{tab('overview', 'Overview')}{tab('topics', 'Topics')}{tab('groups', 'Groups')}{tab('metrics', 'Metrics')}{tab('schemas', 'Schemas')}{tab('connect', 'Connect')}</nav></header>
      <main id="main" tabIndex={-1}>{view}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
