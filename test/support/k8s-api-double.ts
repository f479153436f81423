/**
 * A Kubernetes API-server test double: a real `node:http` server on 127.0.0.1 that serves what the
 * gadget-pod discovery, the port-forwarder and `kubectl get pods` use.
 *
 * - `GET /version`, `/api`, `/api/v1`, `/apis`: enough discovery for kubectl.
 * - `GET /api/v1/namespaces/{ns}/pods[?labelSelector=…&fieldSelector=…]`: PodList with a
 *   `metadata.resourceVersion`; `GET /api/v1/pods` (all namespaces); `GET …/pods/{name}`.
 * - The same list path with `watch=1|true`: a chunked stream of `{"type","object"}` JSON lines.
 *   With `resourceVersion=N` it replays the events after N, with none it starts with synthetic
 *   ADDED events (as kube-apiserver does); an N older than the compaction point gets an ERROR
 *   event carrying a 410 Status (`expireHistory()` compacts). `timeoutSeconds` ends the stream.
 * - Pods carry annotations, ownerReferences, containers with their env (`value`/`valueFrom`) and
 *   container ids in the status, as the real API serves them. `setPodsForbidden` answers lists and
 *   watches with RBAC's 403 Status; `dropWatches` cuts watch connections mid-stream.
 * - `GET /api/v1/namespaces/{ns}/pods/{name}/portforward?ports=P` upgraded to a WebSocket with
 *   subprotocol `v4.channel.k8s.io`, speaking the kubelet's channel protocol: every binary
 *   message starts with a channel byte (port i: data 2i, error 2i+1); the server's first message
 *   on each channel is the port as uint16 little-endian. Each forward opens one TCP connection to
 *   the pod's configured target (`setPortForwardTarget`), e.g. an echo server or an IG daemon
 *   double per "node". A refused target is reported on the error channel, then the socket closes.
 *
 * The server is plain HTTP: @kubernetes/client-node 1.4.0 accepts an `http://` server only when
 * the cluster sets `insecure-skip-tls-verify: true` (KubeConfig.createAgent throws otherwise), so
 * the kubeconfig written for the double sets it; kubectl accepts the same file. A bearer token is
 * required on every request (401 otherwise), which shows clients pass their credentials.
 */
import { createServer, STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';

/** The subprotocol the kubelet's WebSocket port-forward speaks (binary channel framing). */
export const PORT_FORWARD_PROTOCOL = 'v4.channel.k8s.io';

export interface FakePodSpec {
  readonly name: string;
  readonly nodeName: string;
  /** Default `gadget`. */
  readonly namespace?: string;
  /** Default `{ 'k8s-app': 'gadget' }`. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Default `Running`. */
  readonly phase?: string;
  /** Ready condition; default true. */
  readonly ready?: boolean;
  /** Where a port-forward to this pod's `port` leads. */
  readonly target?: { readonly host?: string; readonly port: number };
  /** Pod port the target stands for; default 8080 (the gadget service port). */
  readonly port?: number;
  /** Default a random UUID. */
  readonly uid?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly FakeOwnerReference[];
  /** Default one container `gadget` (IG's image) with no container id. */
  readonly containers?: readonly FakeContainer[];
}

export interface FakeOwnerReference {
  readonly kind: string;
  readonly name: string;
  /** Default true. */
  readonly controller?: boolean;
}

/** A container of the pod's spec, and its id in the status (`containerd://…`) once it runs. */
export interface FakeContainer {
  readonly name: string;
  readonly image?: string;
  /** The spec's env list, as the API serves it (`value` or `valueFrom`). */
  readonly env?: readonly Readonly<Record<string, unknown>>[];
  readonly containerID?: string;
}

/** What updatePod can change. */
export interface FakePodChange {
  readonly phase?: string;
  readonly ready?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

interface StoredPod {
  name: string;
  namespace: string;
  uid: string;
  nodeName: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ownerReferences: readonly FakeOwnerReference[];
  containers: readonly FakeContainer[];
  phase: string;
  ready: boolean;
  deleting: boolean;
  resourceVersion: number;
  created: string;
  target: { host: string; port: number } | undefined;
  port: number;
}

interface WatchEvent {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly pod: StoredPod;
}

interface OpenWatch {
  readonly namespace: string | undefined;
  readonly matches: (pod: StoredPod) => boolean;
  readonly res: ServerResponse;
}

/** One request as the double saw it (path without query, parsed query). */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
}

export interface K8sApiDouble {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** A kubeconfig (context `double`, namespace `default`) pointing at the double, in a temp dir. */
  readonly kubeconfigPath: string;
  /** Temp dir holding the kubeconfig; removed by close(). */
  readonly dir: string;
  /** Bearer token the kubeconfig carries and the double requires. */
  readonly token: string;
  /** Every request so far (including WebSocket upgrades). */
  readonly requests: readonly RecordedRequest[];
  /** Port-forward WebSockets accepted so far, and those still open. */
  readonly portForwardsTotal: number;
  readonly portForwardsOpen: number;
  /** Open watch streams. */
  readonly watchesOpen: number;
  /** Adds a pod (ADDED event). Replaces nothing: the name must be new in its namespace. */
  addPod(spec: FakePodSpec): void;
  /** Changes phase, readiness, labels or annotations (MODIFIED event); labels/annotations are replaced. */
  updatePod(name: string, change: FakePodChange, namespace?: string): void;
  /** Graceful delete sets deletionTimestamp first (MODIFIED), then removes (DELETED). */
  deletePod(name: string, options?: { namespace?: string; graceful?: boolean }): void;
  /** Sets (or clears) where a pod's port-forward leads. */
  setPortForwardTarget(
    name: string,
    target: { host?: string; port: number } | undefined,
    namespace?: string,
  ): void;
  /** Refuse port-forward upgrades with 403 Forbidden (RBAC without `pods/portforward` create). */
  setPortForwardForbidden(forbidden: boolean): void;
  /** Refuse listing and watching pods with 403 Forbidden (RBAC without `list`/`watch` on pods). */
  setPodsForbidden(forbidden: boolean): void;
  /** Cuts every open watch connection without ending its response (a network failure). */
  dropWatches(): void;
  /**
   * Compacts the event history: watches resuming from an older resourceVersion get a 410 ERROR
   * event. With `notifyOpenWatches`, open watches get that event now and are closed.
   */
  expireHistory(options?: { notifyOpenWatches?: boolean }): void;
  /** Ends every open watch stream cleanly (what kube-apiserver does at timeoutSeconds). */
  closeWatches(): void;
  /** Forcibly closes every open port-forward WebSocket (e.g. the API server restarting). */
  closePortForwards(): void;
  close(): Promise<void>;
}

export interface K8sApiDoubleOptions {
  /** Bearer token required on requests; default a random one. */
  readonly token?: string;
  /**
   * Also accept requests that carry no Authorization header (a wrong token is still refused).
   * kubectl (client-go) does not send the kubeconfig's bearer token to a plain-HTTP server.
   */
  readonly allowAnonymous?: boolean;
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
}

type Requirement = (labels: Record<string, string>) => boolean;

/** Label selector subset: `k=v`, `k==v`, `k!=v`, `k`, `!k`, comma-separated (AND). */
function parseLabelSelector(selector: string): Requirement[] | string {
  const out: Requirement[] = [];
  for (const raw of selector.split(',')) {
    const term = raw.trim();
    if (term === '') continue;
    let m: RegExpMatchArray | null;
    if ((m = /^([\w./-]+)\s*!=\s*([\w.-]*)$/.exec(term))) {
      const [, k, v] = m as unknown as [string, string, string];
      out.push((l) => l[k] !== v);
    } else if ((m = /^([\w./-]+)\s*==?\s*([\w.-]*)$/.exec(term))) {
      const [, k, v] = m as unknown as [string, string, string];
      out.push((l) => l[k] === v);
    } else if ((m = /^!([\w./-]+)$/.exec(term))) {
      const k = m[1]!;
      out.push((l) => !(k in l));
    } else if (/^[\w./-]+$/.test(term)) {
      out.push((l) => term in l);
    } else {
      return `unable to parse requirement: ${term}`;
    }
  }
  return out;
}

/** Field selector subset for pods: spec.nodeName, metadata.name, metadata.namespace, status.phase. */
function parseFieldSelector(selector: string): ((pod: StoredPod) => boolean)[] | string {
  const out: ((pod: StoredPod) => boolean)[] = [];
  const fields: Record<string, (p: StoredPod) => string> = {
    'spec.nodeName': (p) => p.nodeName,
    'metadata.name': (p) => p.name,
    'metadata.namespace': (p) => p.namespace,
    'status.phase': (p) => p.phase,
  };
  for (const raw of selector.split(',')) {
    const term = raw.trim();
    if (term === '') continue;
    const m = /^([\w.]+)\s*(!=|==|=)\s*(.*)$/.exec(term);
    if (!m) return `invalid selector: '${term}'; can't understand '${term}'`;
    const [, key, op, value] = m as unknown as [string, string, string, string];
    const get = fields[key];
    if (!get) return `field label not supported: ${key}`;
    out.push(op === '!=' ? (p) => get(p) !== value : (p) => get(p) === value);
  }
  return out;
}

function podJson(p: StoredPod): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    name: p.name,
    namespace: p.namespace,
    uid: p.uid,
    resourceVersion: String(p.resourceVersion),
    creationTimestamp: p.created,
    labels: { ...p.labels },
  };
  if (Object.keys(p.annotations).length > 0) metadata.annotations = { ...p.annotations };
  if (p.ownerReferences.length > 0)
    metadata.ownerReferences = p.ownerReferences.map((o) => ({
      apiVersion: o.kind === 'Job' || o.kind === 'CronJob' ? 'batch/v1' : 'apps/v1',
      kind: o.kind,
      name: o.name,
      uid: `uid-of-${o.name}`,
      controller: o.controller ?? true,
      blockOwnerDeletion: true,
    }));
  if (p.deleting) {
    metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    metadata.deletionGracePeriodSeconds = 30;
  }
  const running = p.phase === 'Running';
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata,
    spec: {
      nodeName: p.nodeName,
      containers: p.containers.map((c) => ({
        name: c.name,
        image: c.image ?? 'ghcr.io/inspektor-gadget/inspektor-gadget:test',
        ports: [],
        ...(c.env !== undefined ? { env: c.env } : {}),
      })),
    },
    status: {
      phase: p.phase,
      podIP: '10.244.0.' + String(p.resourceVersion % 250),
      conditions: [{ type: 'Ready', status: p.ready && running ? 'True' : 'False' }],
      containerStatuses: p.containers.map((c) => ({
        name: c.name,
        ready: p.ready && running,
        restartCount: 0,
        image: c.image ?? 'ghcr.io/inspektor-gadget/inspektor-gadget:test',
        imageID: '',
        ...(running && c.containerID !== undefined ? { containerID: c.containerID } : {}),
        state: running ? { running: { startedAt: p.created } } : { waiting: { reason: 'ContainerCreating' } },
      })),
    },
  };
}

/** Starts the double on 127.0.0.1:0 and writes its kubeconfig. */
export async function startK8sApiDouble(options: K8sApiDoubleOptions = {}): Promise<K8sApiDouble> {
  const token = options.token ?? randomUUID();
  const dir = mkdtempSync(join(tmpdir(), 'igop-'));
  const pods = new Map<string, StoredPod>(); // key ns/name
  const history: WatchEvent[] = [];
  const watches = new Set<OpenWatch>();
  const forwards = new Set<{ ws: WebSocket; tcp: Socket | undefined }>();
  const requests: RecordedRequest[] = [];
  let rv = 1000;
  let compactedRv = 0; // events with rv <= compactedRv are gone
  let forwardsTotal = 0;
  let forbidForward = false;
  let forbidPods = false;

  const keyOf = (ns: string, name: string): string => `${ns}/${name}`;

  const emit = (type: WatchEvent['type'], pod: StoredPod): void => {
    const snapshot = { ...pod, labels: { ...pod.labels }, annotations: { ...pod.annotations } };
    history.push({ rv: pod.resourceVersion, type, pod: snapshot });
    for (const w of watches) {
      if (w.res.writableEnded) continue;
      if (w.namespace !== undefined && w.namespace !== pod.namespace) continue;
      if (!w.matches(snapshot)) continue;
      w.res.write(JSON.stringify({ type, object: podJson(snapshot) }) + '\n');
    }
  };

  const endWatch = (w: OpenWatch, last?: unknown): void => {
    watches.delete(w);
    if (w.res.writableEnded) return;
    if (last !== undefined) w.res.write(JSON.stringify(last) + '\n');
    w.res.end();
  };

  const authorized = (req: IncomingMessage): boolean =>
    req.headers.authorization === `Bearer ${token}` ||
    (options.allowAnonymous === true && req.headers.authorization === undefined);

  const selectorOrError = (
    query: URLSearchParams,
  ): { matches: (pod: StoredPod) => boolean } | { error: string } => {
    const labels = parseLabelSelector(query.get('labelSelector') ?? '');
    if (typeof labels === 'string') return { error: labels };
    const fields = parseFieldSelector(query.get('fieldSelector') ?? '');
    if (typeof fields === 'string') return { error: fields };
    return { matches: (p) => labels.every((r) => r(p.labels)) && fields.every((f) => f(p)) };
  };

  const serveWatch = (
    res: ServerResponse,
    namespace: string | undefined,
    matches: (p: StoredPod) => boolean,
    query: URLSearchParams,
  ): void => {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // kube-apiserver starts the response at once; clients (client-node's Watch) wait for it.
    res.flushHeaders();
    const write = (type: string, object: unknown): void =>
      void res.write(JSON.stringify({ type, object }) + '\n');
    const inScope = (p: StoredPod): boolean =>
      (namespace === undefined || p.namespace === namespace) && matches(p);
    const from = query.get('resourceVersion');
    if (from === null || from === '' || from === '0') {
      for (const p of pods.values()) if (inScope(p)) write('ADDED', podJson(p));
    } else {
      const since = Number(from);
      if (!Number.isFinite(since) || since < compactedRv) {
        write('ERROR', {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${from} (${compactedRv + 1})`,
          reason: 'Expired',
          code: 410,
        });
        res.end();
        return;
      }
      for (const e of history) if (e.rv > since && inScope(e.pod)) write(e.type, podJson(e.pod));
    }
    const w: OpenWatch = { namespace, matches, res };
    watches.add(w);
    const timeout = Number(query.get('timeoutSeconds') ?? '0');
    const timer = timeout > 0 ? setTimeout(() => endWatch(w), timeout * 1000) : undefined;
    timer?.unref();
    res.on('close', () => {
      watches.delete(w);
      if (timer) clearTimeout(timer);
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://double');
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
    });
    if (!authorized(req)) return status(res, 401, 'Unauthorized', 'Unauthorized');
    if (req.method !== 'GET')
      return status(res, 405, 'MethodNotAllowed', `${req.method} not supported by the double`);
    const path = url.pathname.replace(/\/$/, '');
    switch (path) {
      case '/version':
        return json(res, 200, {
          major: '1',
          minor: '30',
          gitVersion: 'v1.30.0-igop-double',
          platform: 'linux/amd64',
        });
      case '/api':
        return json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
      case '/apis':
        return json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
      case '/api/v1':
        return json(res, 200, {
          kind: 'APIResourceList',
          groupVersion: 'v1',
          resources: [
            {
              name: 'pods',
              singularName: 'pod',
              namespaced: true,
              kind: 'Pod',
              verbs: ['get', 'list', 'watch'],
              shortNames: ['po'],
            },
            {
              name: 'pods/portforward',
              singularName: '',
              namespaced: true,
              kind: 'PodPortForwardOptions',
              verbs: ['create', 'get'],
            },
          ],
        });
      default:
        break;
    }
    const list = /^\/api\/v1(?:\/namespaces\/([^/]+))?\/pods$/.exec(path);
    if (list) {
      const namespace = list[1] !== undefined ? decodeURIComponent(list[1]) : undefined;
      if (forbidPods) {
        const verb = url.searchParams.get('watch') ? 'watch' : 'list';
        const scope = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
        return status(
          res,
          403,
          'Forbidden',
          `pods is forbidden: User "system:serviceaccount:gadget:gadget" cannot ${verb} resource "pods" ` +
            `in API group "" ${scope}`,
        );
      }
      const sel = selectorOrError(url.searchParams);
      if ('error' in sel) return status(res, 400, 'BadRequest', sel.error);
      const watch = url.searchParams.get('watch');
      if (watch === '1' || watch === 'true') return serveWatch(res, namespace, sel.matches, url.searchParams);
      const items = [...pods.values()]
        .filter((p) => (namespace === undefined || p.namespace === namespace) && sel.matches(p))
        .map(podJson);
      return json(res, 200, {
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(rv) },
        items,
      });
    }
    const one = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path);
    if (one) {
      const p = pods.get(keyOf(decodeURIComponent(one[1]!), decodeURIComponent(one[2]!)));
      if (!p) return status(res, 404, 'NotFound', `pods "${decodeURIComponent(one[2]!)}" not found`);
      return json(res, 200, podJson(p));
    }
    status(res, 404, 'NotFound', `the server could not find the requested resource (${path})`);
  };

  const server = createServer(handle);
  const wss = new WebSocketServer({
    noServer: true,
    // Pick the kubelet's binary channel protocol when the client offers it (client-node offers
    // v5…channel.k8s.io in preference order; the kubelet's port-forward only knows v4).
    handleProtocols: (offered) => (offered.has(PORT_FORWARD_PROTOCOL) ? PORT_FORWARD_PROTOCOL : false),
  });

  const rejectUpgrade = (socket: Socket, code: number, message: string): void => {
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code });
    socket.end(
      `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://double');
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
    });
    if (!authorized(req)) return rejectUpgrade(socket, 401, 'Unauthorized');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/.exec(url.pathname);
    if (!m) return rejectUpgrade(socket, 404, `no WebSocket endpoint at ${url.pathname}`);
    const namespace = decodeURIComponent(m[1]!);
    const name = decodeURIComponent(m[2]!);
    if (forbidForward) {
      return rejectUpgrade(
        socket,
        403,
        `pods "${name}" is forbidden: User "system:serviceaccount:igop:exporter" cannot create resource ` +
          `"pods/portforward" in API group "" in the namespace "${namespace}"`,
      );
    }
    const pod = pods.get(keyOf(namespace, name));
    if (!pod) return rejectUpgrade(socket, 404, `pods "${name}" not found`);
    const ports = (url.searchParams.get('ports') ?? '')
      .split(',')
      .filter((s) => s !== '')
      .map(Number);
    const port = ports[0];
    if (ports.length !== 1 || port === undefined || !Number.isInteger(port) || port <= 0 || port > 65535) {
      return rejectUpgrade(
        socket,
        400,
        'exactly one valid port is required in "ports" (this double supports one)',
      );
    }
    const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    if (!protocols.includes(PORT_FORWARD_PROTOCOL)) {
      return rejectUpgrade(socket, 400, `subprotocol ${PORT_FORWARD_PROTOCOL} required`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => startForward(ws, pod, port));
  });

  const startForward = (ws: WebSocket, pod: StoredPod, port: number): void => {
    forwardsTotal++;
    const entry: { ws: WebSocket; tcp: Socket | undefined } = { ws, tcp: undefined };
    forwards.add(entry);
    const frame = (channel: number, payload: Buffer): Buffer =>
      Buffer.concat([Buffer.from([channel]), payload]);
    const portPrefix = Buffer.alloc(2);
    portPrefix.writeUInt16LE(port, 0);
    ws.send(frame(0, portPrefix));
    ws.send(frame(1, portPrefix));
    const fail = (why: string): void => {
      ws.send(
        frame(1, Buffer.from(`error forwarding port ${port} to pod ${pod.name}, uid ${pod.uid}: ${why}`)),
      );
      ws.close(1000);
    };
    ws.on('close', () => {
      forwards.delete(entry);
      entry.tcp?.end();
    });
    ws.on('error', () => undefined);
    const target = pod.target;
    if (!target || port !== pod.port) {
      fail(`failed to connect to localhost:${port} inside the pod's network namespace: connection refused`);
      return;
    }
    const pending: Buffer[] = [];
    const tcp = connect(target.port, target.host);
    entry.tcp = tcp;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length === 0) return;
      if (data[0] !== 0) return; // only the data channel carries client bytes
      const payload = data.subarray(1);
      if (tcp.connecting) pending.push(payload);
      else tcp.write(payload);
    });
    tcp.on('connect', () => {
      for (const p of pending.splice(0)) tcp.write(p);
    });
    tcp.on('data', (chunk: Buffer) => {
      ws.send(frame(0, chunk));
    });
    tcp.on('error', (err: NodeJS.ErrnoException) => {
      if (ws.readyState === ws.OPEN) fail(err.code === 'ECONNREFUSED' ? 'connection refused' : err.message);
    });
    tcp.on('end', () => ws.close(1000));
    tcp.on('close', () => {
      if (ws.readyState === ws.OPEN) ws.close(1000);
    });
  };

  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfigPath,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: double',
      'clusters:',
      '- name: double',
      '  cluster:',
      `    server: ${url}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: double-user',
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: double',
      '  context:',
      '    cluster: double',
      '    user: double-user',
      '    namespace: default',
      '',
    ].join('\n'),
  );

  const mustGet = (name: string, namespace = 'gadget'): StoredPod => {
    const p = pods.get(keyOf(namespace, name));
    if (!p) throw new Error(`k8s-api-double: no pod ${namespace}/${name}`);
    return p;
  };

  return {
    url,
    kubeconfigPath,
    dir,
    token,
    get requests() {
      return requests;
    },
    get portForwardsTotal() {
      return forwardsTotal;
    },
    get portForwardsOpen() {
      return forwards.size;
    },
    get watchesOpen() {
      return watches.size;
    },
    addPod(spec) {
      const namespace = spec.namespace ?? 'gadget';
      if (pods.has(keyOf(namespace, spec.name))) throw new Error(`k8s-api-double: pod ${spec.name} exists`);
      const pod: StoredPod = {
        name: spec.name,
        namespace,
        uid: spec.uid ?? randomUUID(),
        nodeName: spec.nodeName,
        labels: { ...(spec.labels ?? { 'k8s-app': 'gadget' }) },
        annotations: { ...spec.annotations },
        ownerReferences: spec.ownerReferences ?? [],
        containers: spec.containers ?? [{ name: 'gadget' }],
        phase: spec.phase ?? 'Running',
        ready: spec.ready ?? true,
        deleting: false,
        resourceVersion: ++rv,
        created: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        target: spec.target ? { host: spec.target.host ?? '127.0.0.1', port: spec.target.port } : undefined,
        port: spec.port ?? 8080,
      };
      pods.set(keyOf(namespace, spec.name), pod);
      emit('ADDED', pod);
    },
    updatePod(name, change, namespace) {
      const pod = mustGet(name, namespace);
      if (change.phase !== undefined) pod.phase = change.phase;
      if (change.ready !== undefined) pod.ready = change.ready;
      if (change.labels !== undefined) pod.labels = { ...change.labels };
      if (change.annotations !== undefined) pod.annotations = { ...change.annotations };
      pod.resourceVersion = ++rv;
      emit('MODIFIED', pod);
    },
    deletePod(name, opts = {}) {
      const pod = mustGet(name, opts.namespace);
      if (opts.graceful) {
        pod.deleting = true;
        pod.resourceVersion = ++rv;
        emit('MODIFIED', pod);
      }
      pods.delete(keyOf(pod.namespace, pod.name));
      pod.resourceVersion = ++rv;
      emit('DELETED', pod);
    },
    setPortForwardTarget(name, target, namespace) {
      mustGet(name, namespace).target = target
        ? { host: target.host ?? '127.0.0.1', port: target.port }
        : undefined;
    },
    setPortForwardForbidden(forbidden) {
      forbidForward = forbidden;
    },
    setPodsForbidden(forbidden) {
      forbidPods = forbidden;
    },
    dropWatches() {
      for (const w of [...watches]) {
        watches.delete(w);
        w.res.socket?.destroy();
      }
    },
    expireHistory(opts = {}) {
      compactedRv = rv;
      history.length = 0;
      if (opts.notifyOpenWatches) {
        for (const w of [...watches]) {
          endWatch(w, {
            type: 'ERROR',
            object: {
              kind: 'Status',
              apiVersion: 'v1',
              status: 'Failure',
              reason: 'Expired',
              code: 410,
              message: 'too old resource version',
            },
          });
        }
      }
    },
    closeWatches() {
      for (const w of [...watches]) endWatch(w);
    },
    closePortForwards() {
      for (const f of [...forwards]) f.ws.terminate();
    },
    async close() {
      for (const w of [...watches]) w.res.destroy();
      for (const f of [...forwards]) {
        f.ws.terminate();
        f.tcp?.destroy();
      }
      wss.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
