// The Schemas view (#/schemas, #/schemas/SUBJECT: versions, one version's schema, a line diff
// between two versions, a compatibility check) and the Connect view (#/connect: connectors, their
// state and tasks, pause/resume/restart). Both ask the console server, which asks the registry and
// Connect; a service that is not configured or does not answer shows why.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, enc, refusal, usePoll } from './api.js';

function ServiceError(props: { error: ApiError | undefined; what: string }) {
  if (!props.error) return null;
  const e = props.error;
  const why =
    e.kafkaName === 'UNSUPPORTED_VERSION'
      ? `The ${props.what} is not configured.`
      : e.status === 0 || e.status === 503
        ? `The ${props.what} does not answer.`
        : `The ${props.what} refused the request.`;
  return (
    <div class="error" role="alert" data-testid="error">
      <strong>{why}</strong>
      <div>{refusal(e)}</div>
    </div>
  );
}

// ---- schemas ----

/** Registers a new version of a subject (a new subject when `subject` is not given). */
function RegisterSchema(props: { subject?: string; onRegistered: (subject: string) => void }) {
  const [subject, setSubject] = useState(props.subject ?? '');
  const [schema, setSchema] = useState('');
  const [schemaType, setType] = useState('AVRO');
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const submit = (e: Event) => {
    e.preventDefault();
    const s = props.subject ?? subject.trim();
    api<{ id: number; version: number | null }>(`/api/schemas/subjects/${enc(s)}/versions`, { method: 'POST', body: { schema, schemaType } }).then(
      (r) => { setMsg({ ok: true, text: `Registered ${s}${r.version !== null ? ` version ${r.version}` : ''} (schema id ${r.id}).` }); props.onRegistered(s); },
      (err: ApiError) => setMsg({ ok: false, text: refusal(err) }),
    );
  };
  return (
    <form class="panel" aria-label="register a schema" data-testid="register" onSubmit={submit}>
      <h2>Register a schema version</h2>
      <p class="muted">The registry checks it against the subject's compatibility level and refuses an incompatible or invalid schema.</p>
      {props.subject === undefined ? <label>Subject <input name="subject" required value={subject} onInput={(e) => setSubject(e.currentTarget.value)} /></label> : null}
      <label>Type <select name="schemaType" value={schemaType} onChange={(e) => setType(e.currentTarget.value)}><option>AVRO</option><option>JSON</option><option>PROTOBUF</option></select></label>
      <label style="width:100%">Schema <textarea name="schema" required rows={6} value={schema} onInput={(e) => setSchema(e.currentTarget.value)} /></label>
      <button type="submit">Register</button>
      {msg ? <p role={msg.ok ? 'status' : 'alert'} class={msg.ok ? 'ok' : 'error'} data-testid="register-result">{msg.text}</p> : null}
    </form>
  );
}

export function SchemasView() {
  const { data, error, refresh } = usePoll<{ subjects: Array<{ subject: string; versions: number[] }> }>('/api/schemas/subjects', 2000);
  return (
    <section aria-labelledby="h-schemas">
      <h1 id="h-schemas">Schema registry</h1>
      <RegisterSchema onRegistered={refresh} />
      <ServiceError error={error} what="schema registry" />
      {!data ? (error ? null : <p class="loading" aria-busy="true">Loading subjects…</p>) : data.subjects.length === 0 ? <p class="empty">No subjects registered yet.</p> : (
        <table data-testid="subjects">
          <thead><tr><th>Subject</th><th>Versions</th><th>Latest</th></tr></thead>
          <tbody>{data.subjects.map((s) => (
            <tr key={s.subject} data-subject={s.subject}><td><a href={`#/schemas/${enc(s.subject)}`}>{s.subject}</a></td><td>{s.versions.length}</td><td>{s.versions.at(-1) ?? '—'}</td></tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}

interface SchemaVersion { subject: string; version: number; id: number; schemaType: string; text: string }

export function SubjectView(props: { subject: string }) {
  const { data, error, refresh } = usePoll<{ subject: string; versions: number[]; compatibility: string | null }>(`/api/schemas/subjects/${enc(props.subject)}/versions`, 2000);
  const [picked, setPicked] = useState<number | null>(null);
  const latest = data?.versions.at(-1) ?? null;
  const shown = picked ?? latest;
  const schema = usePoll<SchemaVersion>(shown === null ? null : `/api/schemas/subjects/${enc(props.subject)}/versions/${shown}`, 0);
  return (
    <section aria-labelledby="h-subject">
      <h1 id="h-subject">Subject {props.subject}</h1>
      <p><a href="#/schemas">All subjects</a></p>
      <ServiceError error={error} what="schema registry" />
      {!data ? (error ? null : <p class="loading" aria-busy="true">Loading versions…</p>) : (
        <>
          <p>Compatibility <strong data-testid="compatibility">{data.compatibility ?? '—'}</strong> · {data.versions.length} version(s)</p>
          <nav class="pager" aria-label="versions">
            {data.versions.map((v) => (
              <button key={v} type="button" class={v === shown ? '' : 'link'} aria-pressed={v === shown} onClick={() => setPicked(v)}>v{v}</button>
            ))}
          </nav>
          <ServiceError error={schema.error} what="schema registry" />
          {schema.data ? (
            <figure class="chart" data-testid="schema">
              <figcaption>Version {schema.data.version} · id {schema.data.id} · {schema.data.schemaType}</figcaption>
              <pre>{schema.data.text}</pre>
            </figure>
          ) : null}
          {data.versions.length > 1 ? <Diff subject={props.subject} versions={data.versions} /> : null}
          <CompatibilityCheck subject={props.subject} versions={data.versions} />
        </>
      )}
      {/* Outside the loaded part: refresh() empties the versions until they load again, and the form keeps its result. */}
      <RegisterSchema subject={props.subject} onRegistered={() => { setPicked(null); refresh(); }} />
    </section>
  );
}

function Diff(props: { subject: string; versions: number[] }) {
  const n = props.versions.length;
  const [from, setFrom] = useState(props.versions[n - 2]!);
  const [to, setTo] = useState(props.versions[n - 1]!);
  const diff = usePoll<{ lines: Array<{ op: ' ' | '+' | '-'; text: string }> }>(`/api/schemas/subjects/${enc(props.subject)}/diff?from=${from}&to=${to}`, 0);
  const pick = (label: string, value: number, set: (v: number) => void) => (
    <label>{label} <select value={value} onChange={(e) => set(Number(e.currentTarget.value))}>
      {props.versions.map((v) => <option key={v} value={v}>v{v}</option>)}
    </select></label>
  );
  return (
    <div class="panel" data-testid="diff">
      <h2>Diff between versions</h2>
      {pick('From', from, setFrom)}{pick('To', to, setTo)}
      <ServiceError error={diff.error} what="schema registry" />
      {diff.data ? (
        <pre class="diff" aria-label={`diff from v${from} to v${to}`}>{diff.data.lines.map((l, i) => (
          <span key={i} class={l.op === '+' ? 'add' : l.op === '-' ? 'del' : ''}>{`${l.op} ${l.text}\n`}</span>
        ))}</pre>
      ) : null}
    </div>
  );
}

function CompatibilityCheck(props: { subject: string; versions: number[] }) {
  const [schema, setSchema] = useState('');
  const [schemaType, setType] = useState('AVRO');
  const [version, setVersion] = useState('latest');
  const [result, setResult] = useState<{ isCompatible: boolean; messages: string[] } | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  useEffect(() => { setResult(null); }, [schema, schemaType, version]);
  const check = () => {
    api<{ isCompatible: boolean; messages: string[] }>(`/api/schemas/subjects/${enc(props.subject)}/compatibility`, { method: 'POST', body: { schema, schemaType, version } }).then(
      (r) => { setResult(r); setMsg(null); },
      (e: ApiError) => { setMsg(refusal(e)); setResult(null); },
    );
  };
  return (
    <form class="panel" aria-label="compatibility check" data-testid="compat" onSubmit={(e) => { e.preventDefault(); check(); }}>
      <h2>Compatibility check</h2>
      <p class="muted">Would this schema be accepted after the chosen version, under the subject's compatibility level? Nothing is registered.</p>
      <label style="width:100%">Schema <textarea rows={6} value={schema} onInput={(e) => setSchema(e.currentTarget.value)} /></label>
      <label>Type <select value={schemaType} onChange={(e) => setType(e.currentTarget.value)}><option>AVRO</option><option>JSON</option><option>PROTOBUF</option></select></label>
      <label>Against <select value={version} onChange={(e) => setVersion(e.currentTarget.value)}>
        <option value="latest">latest</option>{props.versions.map((v) => <option key={v} value={String(v)}>v{v}</option>)}
      </select></label>
      <button type="submit">Check</button>
      {msg ? <p role="alert" class="error">{msg}</p> : null}
      {result ? (
        <div role="status" data-testid="compat-result" style="width:100%">
          <strong class={result.isCompatible ? 'ok' : 'error'}>{result.isCompatible ? 'Compatible' : 'Not compatible'}</strong>
          {result.messages.length > 0 ? <ul>{result.messages.map((m, i) => <li key={i}>{m}</li>)}</ul> : null}
        </div>
      ) : null}
    </form>
  );
}

// ---- connect ----

interface Connector {
  name: string; type: string | null; state: string; workerId: string | null; trace: string | null;
  tasks: Array<{ id: number; state: string; workerId: string | null; trace: string | null }>;
}

const stateBadge = (s: string) => <span class={`badge ${s === 'RUNNING' ? 'ok' : s === 'FAILED' ? 'bad' : ''}`}>{s}</span>;

export function ConnectView() {
  const { data, error, refresh } = usePoll<{ connectors: Connector[] }>('/api/connect/connectors');
  const [msg, setMsg] = useState<string | null>(null);
  const act = (name: string, action: string) => {
    api(`/api/connect/connectors/${enc(name)}/${action}`, { method: 'POST' }).then(
      () => { setMsg(`${action} sent to ${name}`); refresh(); },
      (e: ApiError) => setMsg(refusal(e)),
    );
  };
  return (
    <section aria-labelledby="h-connect">
      <h1 id="h-connect">Kafka Connect</h1>
      <ServiceError error={error} what="Connect worker" />
      {msg ? <p role="status" data-testid="connect-msg">{msg}</p> : null}
      {!data ? (error ? null : <p class="loading" aria-busy="true">Loading connectors…</p>) : data.connectors.length === 0 ? <p class="empty">No connectors yet.</p> : (
        <table data-testid="connectors">
          <thead><tr><th>Connector</th><th>Type</th><th>State</th><th>Worker</th><th>Tasks</th><th>Actions</th></tr></thead>
          <tbody>{data.connectors.map((c) => (
            <tr key={c.name} data-connector={c.name}>
              <td>{c.name}{c.trace ? <pre class="muted">{c.trace.split('\n')[0]}</pre> : null}</td>
              <td>{c.type ?? '—'}</td>
              <td class="state">{stateBadge(c.state)}</td>
              <td>{c.workerId ?? '—'}</td>
              <td class="tasks">{c.tasks.length === 0 ? '—' : c.tasks.map((t) => <div key={t.id}>#{t.id} {stateBadge(t.state)}{t.trace ? <pre class="muted">{t.trace.split('\n')[0]}</pre> : null}</div>)}</td>
              <td><div class="edit">
                <button type="button" aria-label={`pause ${c.name}`} disabled={c.state === 'PAUSED'} onClick={() => act(c.name, 'pause')}>Pause</button>
                <button type="button" aria-label={`resume ${c.name}`} disabled={c.state === 'RUNNING'} onClick={() => act(c.name, 'resume')}>Resume</button>
                <button type="button" aria-label={`restart ${c.name}`} onClick={() => act(c.name, 'restart')}>Restart</button>
              </div></td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}
