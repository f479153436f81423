/**
 * Generates realistic `ig run profile_cpu -o json` output (IG's exact key order and nesting, 64-bit
 * integers beyond 2^53) for benchmarks and the bundled example capture. Deterministic per seed.
 * Stack popularity follows a Zipf-like law, as real CPU profiles do. User stacks are walks through a
 * static program per binary (fixed function address ranges, a fixed call graph with one call site per
 * edge, a few hot leaf offsets per function; fixed interpreter/libjvm/libc frames), so call-path
 * prefixes and locations are shared across stacks as in a real binary.
 */

export interface CaptureShape {
  readonly seed: number;
  readonly nodes: number;
  readonly containers: number;
  readonly processes: number;
  readonly distinctStacks: number;
  readonly minDepth: number;
  readonly maxDepth: number;
  readonly fetches: number;
  readonly rowsPerFetch: number;
}

export const BENCH_SHAPE: CaptureShape = {
  seed: 42,
  nodes: 3,
  containers: 60,
  processes: 300,
  distinctStacks: 5000,
  minDepth: 10,
  maxDepth: 80,
  fetches: 200,
  rowsPerFetch: 1000,
};

export const EXAMPLE_SHAPE: CaptureShape = {
  seed: 7,
  nodes: 2,
  containers: 8,
  processes: 16,
  distinctStacks: 120,
  minDepth: 6,
  maxDepth: 40,
  fetches: 12,
  rowsPerFetch: 40,
};

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KERNEL_PATHS: readonly string[][] = [
  ['chacha_permute', 'get_random_bytes_user', 'urandom_read_iter', 'vfs_read', 'ksys_read', '__x64_sys_read'],
  [
    'copy_user_enhanced_fast_string',
    'tcp_recvmsg_locked',
    'tcp_recvmsg',
    'inet_recvmsg',
    'sock_read_iter',
    'vfs_read',
    'ksys_read',
    '__x64_sys_read',
  ],
  [
    '__memcpy',
    'skb_copy_datagram_iter',
    'tcp_sendmsg_locked',
    'tcp_sendmsg',
    'sock_write_iter',
    'vfs_write',
    'ksys_write',
    '__x64_sys_write',
  ],
  [
    'clear_page_erms',
    'get_page_from_freelist',
    '__alloc_pages',
    'alloc_pages_vma',
    'do_anonymous_page',
    '__handle_mm_fault',
    'handle_mm_fault',
    'do_user_addr_fault',
    'exc_page_fault',
    'asm_exc_page_fault',
  ],
  ['_raw_spin_unlock_irqrestore', 'try_to_wake_up', 'wake_up_q', 'futex_wake', 'do_futex', '__x64_sys_futex'],
  [
    'ext4_da_write_begin',
    'generic_perform_write',
    'ext4_buffered_write_iter',
    'vfs_write',
    'ksys_write',
    '__x64_sys_write',
  ],
  [
    'finish_task_switch.isra.0',
    '__schedule',
    'schedule',
    'schedule_hrtimeout_range_clock',
    'do_epoll_wait',
    '__x64_sys_epoll_wait',
  ],
];
const KERNEL_ENTRY = ['x64_sys_call', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe'];

const GO_FUNCS = [
  'main.main',
  'runtime.main',
  'net/http.(*conn).serve',
  'net/http.serverHandler.ServeHTTP',
  'net/http.(*ServeMux).ServeHTTP',
  'main.(*api).handleCheckout',
  'main.(*api).priceCart',
  'encoding/json.Marshal',
  'encoding/json.(*encodeState).marshal',
  'encoding/json.(*encodeState).reflectValue',
  'encoding/json.structEncoder.encode',
  'encoding/json.mapEncoder.encode',
  'runtime.mallocgc',
  'runtime.memmove',
  'runtime.gcBgMarkWorker',
  'runtime.gcDrain',
  'runtime.scanobject',
  'runtime.findObject',
  'crypto/sha256.block',
  'crypto/tls.(*Conn).Write',
  'bufio.(*Writer).Flush',
  'database/sql.(*DB).QueryContext',
  'github.com/jackc/pgx/v5.(*Conn).Query',
  'sort.Slice',
  'strings.(*Builder).WriteString',
  'strconv.AppendInt',
  'runtime.goexit',
];
const PY_FUNCS = [
  '<module>',
  'main',
  'run',
  'handle_request',
  'dispatch',
  'render_template',
  'compute_fibonacci',
  'serialize',
  'json.dumps',
  'encode',
  'iterencode',
  '_iterencode_dict',
  'query',
  'execute',
  'fetchall',
  'transform_rows',
  'score_model',
  'predict',
];
const C_FUNCS = [
  'main',
  'burn_cpu',
  'process_block',
  'compress_chunk',
  'deflate_slow',
  'longest_match',
  'hash_update',
  'worker_loop',
  'read_input',
];
const JAVA_FUNCS = [
  'java.lang.Thread.run',
  'org.apache.tomcat.util.threads.TaskThread$WrappingRunnable.run',
  'org.springframework.web.servlet.DispatcherServlet.doDispatch',
  'com.shop.cart.CartController.checkout',
  'com.shop.cart.PricingService.price',
  'java.util.HashMap.get',
  'com.fasterxml.jackson.databind.ObjectMapper.writeValueAsString',
  'java.lang.String.hashCode',
];

type Runtime = 'go' | 'python' | 'c' | 'java';
const APPS: readonly { name: string; runtime: Runtime; image: string; comm: string }[] = [
  { name: 'checkout', runtime: 'go', image: 'ghcr.io/shop/checkout:1.14.2', comm: 'checkout' },
  { name: 'catalog', runtime: 'java', image: 'ghcr.io/shop/catalog:3.2.0', comm: 'java' },
  { name: 'recommender', runtime: 'python', image: 'ghcr.io/shop/recommender:0.9.1', comm: 'python3' },
  { name: 'imgproc', runtime: 'c', image: 'ghcr.io/shop/imgproc:2.0.0', comm: 'imgproc' },
  { name: 'frontend', runtime: 'go', image: 'ghcr.io/shop/frontend:5.1.0', comm: 'frontend' },
  { name: 'ledger', runtime: 'java', image: 'ghcr.io/shop/ledger:1.0.3', comm: 'java' },
];

interface Proc {
  node: string;
  namespace: string;
  pod: string;
  container: string;
  containerId: string;
  image: string;
  app: string;
  runtime: Runtime;
  comm: string;
  pid: number;
  tids: number[];
  threadComms: string[];
  mntns: number;
  startedAt: bigint;
  hashSuffix: string;
  host: boolean;
}

interface StackDef {
  proc: number;
  kern: string;
  addresses: string;
  symbols: string;
  buildid: string;
  kernelIps: bigint[];
}

function hex(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
}

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T;
}

function buildProcesses(shape: CaptureShape, rand: () => number): Proc[] {
  const nodes = Array.from({ length: shape.nodes }, (_, i) => `aks-nodepool1-24318594-vmss00000${i}`);
  const containers = Array.from({ length: shape.containers }, (_, i) => {
    const app = APPS[i % APPS.length] as (typeof APPS)[number];
    const hash = hex(rand, 10);
    return {
      node: nodes[i % nodes.length] as string,
      namespace: i % 5 === 0 ? 'payments' : 'shop',
      pod: `${app.name}-${hash}-${hex(rand, 5)}`,
      container: app.name,
      containerId: hex(rand, 64),
      image: app.image,
      app: app.name,
      runtime: app.runtime,
      comm: app.comm,
      hashSuffix: hash,
      mntns: 4026532000 + i,
      startedAt: 1763700000000000000n + BigInt(Math.floor(rand() * 1e15)),
    };
  });
  const procs: Proc[] = [];
  for (let i = 0; i < shape.processes; i++) {
    const host = i % 25 === 24;
    const c = containers[i % containers.length];
    if (!c) break;
    const pid = 10000 + i * 37;
    const threads = 1 + Math.floor(rand() * 6);
    const tids = Array.from({ length: threads }, (_, t) => (t === 0 ? pid : pid + t));
    const threadComms = tids.map((_, t) =>
      t === 0 ? c.comm : c.runtime === 'java' ? `http-nio-${t}` : c.comm,
    );
    procs.push({
      ...c,
      pid,
      tids,
      threadComms,
      host,
      ...(host ? { comm: 'node_exporter', runtime: 'go' } : {}),
    });
  }
  return procs;
}

/** A function of a static program: its text range and, for the call graph, its fixed callees. */
interface ProgramFunction {
  readonly name: string;
  /** Offset of the function's first byte from the object's load base. */
  readonly start: number;
  readonly size: number;
  /** Callee function indices, most preferred first. */
  readonly callees: number[];
  /** Return address offset (from `start`) of the call to each callee. */
  readonly callSites: number[];
  /** Return address offset of the function's call out of this object (into interpreted or JIT code, or a PLT entry). */
  readonly outSite: number;
  /** Offsets where CPU samples land when the function is the leaf (its hot loops), most frequent first. */
  readonly hot: number[];
}

interface Program {
  readonly funcs: ProgramFunction[];
  readonly byName: Map<string, number>;
}

/** Offsets of distinct instructions inside a function of `size` bytes. */
function distinctOffsets(rand: () => number, size: number, count: number, taken: Set<number>): number[] {
  const out: number[] = [];
  while (out.length < count) {
    const off = 4 + Math.floor(rand() * (size - 4));
    if (taken.has(off)) continue;
    taken.add(off);
    out.push(off);
  }
  return out;
}

/**
 * Lays out `names` in an object's text (from `textStart`, with gaps for functions no sample hits) and
 * wires a call graph: `edges` fixes some functions' callees; every other function gets 2–4 other
 * functions as callees, none from `notCallees` (entry points); cycles give deep, recursive stacks.
 */
function buildProgram(
  rand: () => number,
  names: readonly string[],
  textStart: number,
  maxGap: number,
  edges: Readonly<Record<string, readonly string[]>>,
  notCallees: readonly string[],
): Program {
  const byName = new Map(names.map((n, i) => [n, i]));
  const candidates = names.map((_, i) => i).filter((i) => !notCallees.includes(names[i] as string));
  const funcs: ProgramFunction[] = [];
  let at = textStart;
  for (const name of names) {
    const size = Math.max(0x40, Math.floor(0x40 * Math.pow(2, rand() * 6)) & ~0xf);
    const fixed = edges[name];
    const callees: number[] = [];
    if (fixed) for (const c of fixed) callees.push(byName.get(c) as number);
    else {
      const n = 2 + Math.floor(rand() * 3);
      while (callees.length < n) {
        const c = pick(rand, candidates);
        if (c !== funcs.length && !callees.includes(c)) callees.push(c);
      }
    }
    const taken = new Set<number>();
    const callSites = distinctOffsets(rand, size, callees.length, taken);
    const [outSite] = distinctOffsets(rand, size, 1, taken);
    const hot = distinctOffsets(rand, size, 2 + Math.floor(rand() * 3), taken);
    funcs.push({ name, start: at, size, callees, callSites, outSite: outSite as number, hot });
    at += size + (Math.floor(rand() * maxGap) & ~0xf);
  }
  return { funcs, byName };
}

/** Index into a preference-ordered list of `n` choices, Zipf-like (the first is taken most). */
function zipfIndex(rand: () => number, n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += 1 / Math.pow(i + 1, 1.3);
  let x = rand() * total;
  for (let i = 0; i < n; i++) {
    x -= 1 / Math.pow(i + 1, 1.3);
    if (x < 0) return i;
  }
  return n - 1;
}

interface WalkFrame {
  readonly name: string;
  /** Offset from the object's load base. */
  readonly offset: number;
}

/**
 * `length` frames, outermost first, from `root` down the call graph. Every frame but the last is at
 * the call site of the edge taken; the last is at a hot offset (a sampled leaf) or, when the stack
 * continues in another object, at the function's call out.
 */
function walk(
  rand: () => number,
  program: Program,
  root: string,
  length: number,
  leaf: boolean,
): WalkFrame[] {
  const frames: WalkFrame[] = [];
  let f = program.funcs[program.byName.get(root) as number] as ProgramFunction;
  for (let i = 0; i < length; i++) {
    if (i === length - 1) {
      const off = leaf ? (f.hot[zipfIndex(rand, f.hot.length)] as number) : f.outSite;
      frames.push({ name: f.name, offset: f.start + off });
      break;
    }
    const k = zipfIndex(rand, f.callees.length);
    frames.push({ name: f.name, offset: f.start + (f.callSites[k] as number) });
    f = program.funcs[f.callees[k] as number] as ProgramFunction;
  }
  return frames;
}

const EXE_BASE = 0x400000;
const LIBC_BASE = 0x7f0c6ce00000;
const LIBC_BUILD_ID = 'f0983025f0e0f327a6da752ff4ffa675e0be393f';
/** Return address of `__libc_start_call_main` (glibc 2.35), the libc frame under every C `main`. */
const LIBC_START_CALL_MAIN = 0x29d90;
/** Load bases of the interpreters' native code (python3.12 is a PIE executable). */
const PYTHON_BASE = 0x55d0c4a00000;
const LIBJVM_BASE = 0x7f5e2a000000;

interface RuntimeModel {
  readonly pool: readonly string[];
  readonly root: string;
  readonly edges: Readonly<Record<string, readonly string[]>>;
}

const RUNTIME_MODELS: Readonly<Record<Runtime, RuntimeModel>> = {
  go: {
    pool: GO_FUNCS,
    root: 'runtime.goexit',
    edges: {
      'runtime.goexit': ['net/http.(*conn).serve', 'runtime.main', 'runtime.gcBgMarkWorker'],
      'runtime.main': ['main.main'],
    },
  },
  python: { pool: PY_FUNCS, root: '<module>', edges: { '<module>': ['main', 'run'] } },
  java: {
    pool: JAVA_FUNCS,
    root: 'java.lang.Thread.run',
    edges: { 'java.lang.Thread.run': ['org.apache.tomcat.util.threads.TaskThread$WrappingRunnable.run'] },
  },
  c: { pool: ['_start', ...C_FUNCS], root: 'main', edges: { main: ['worker_loop', 'read_input'] } },
};

/** Anonymous native functions of the interpreters (frames render as `module+0x<offset>`). */
function libraryProgram(rand: () => number, functions: number, textStart: number, maxGap: number): Program {
  const names = Array.from({ length: functions }, (_, i) => `f${i}`);
  // f0 is the entry (Py_BytesMain, thread_native_entry); it is not called back.
  return buildProgram(rand, names, textStart, maxGap, {}, ['f0']);
}

function appProgram(rand: () => number, runtime: Runtime): Program {
  const m = RUNTIME_MODELS[runtime];
  return buildProgram(rand, m.pool, 0x1000, 0x10000, m.edges, ['_start', ...Object.entries(m.edges).flat(2)]);
}

function exeAddress(offset: number): string {
  return `0x${(EXE_BASE + offset).toString(16).padStart(16, '0')}`;
}

function buildStacks(shape: CaptureShape, procs: readonly Proc[], rand: () => number): StackDef[] {
  const python = libraryProgram(rand, 10, 0x20000, 0x30000);
  const libjvm = libraryProgram(rand, 14, 0x400000, 0x80000);
  // One static program (and build id) per binary: an app's processes all run the same one.
  const programs = new Map<string, { program: Program; buildId: string }>();
  const programOf = (proc: Proc): { program: Program; buildId: string } => {
    const binary = proc.host ? proc.comm : proc.app;
    let p = programs.get(binary);
    if (!p) {
      p = { program: appProgram(rand, proc.runtime), buildId: hex(rand, 40) };
      programs.set(binary, p);
    }
    return p;
  };
  const stacks: StackDef[] = [];
  const seen = new Set<string>();
  const MAX_ATTEMPTS = 100;
  for (let i = 0; i < shape.distinctStacks; i++) {
    for (let attempt = 1; ; attempt++) {
      const stack = drawStack(shape, procs, rand, programOf, python, libjvm);
      const key = `${stack.proc}\n${stack.kern}\n${stack.symbols}\n${stack.addresses}\n${stack.buildid}`;
      if (!seen.has(key)) {
        seen.add(key);
        stacks.push(stack);
        break;
      }
      if (attempt === MAX_ATTEMPTS)
        throw new Error(
          `the program model gave no new stack in ${MAX_ATTEMPTS} walks (stack ${i + 1} of ${shape.distinctStacks})`,
        );
    }
  }
  return stacks;
}

function drawStack(
  shape: CaptureShape,
  procs: readonly Proc[],
  rand: () => number,
  programOf: (proc: Proc) => { program: Program; buildId: string },
  python: Program,
  libjvm: Program,
): StackDef {
  const procIndex = Math.floor(rand() * procs.length);
  const proc = procs[procIndex] as Proc;
  const depth = shape.minDepth + Math.floor(rand() * (shape.maxDepth - shape.minDepth + 1));
  const kernelFrames: string[] = [];
  if (rand() < 0.45) {
    const path = pick(rand, KERNEL_PATHS);
    kernelFrames.push(...path.slice(Math.floor(rand() * 2)), ...KERNEL_ENTRY);
  }
  const userDepth = Math.max(proc.runtime === 'c' ? 3 : 2, depth - kernelFrames.length);
  const { program, buildId } = programOf(proc);
  const m = RUNTIME_MODELS[proc.runtime];
  // Outermost first; reversed below so index 0 is the leaf, as IG prints stacks.
  const symbols: string[] = [];
  const addresses: string[] = [];
  const ids: string[] = [];
  const exeFrame = (f: WalkFrame): void => {
    symbols.push(f.name);
    addresses.push(exeAddress(f.offset));
    ids.push(`${buildId} +${f.offset.toString(16)}`);
  };
  const libFrames = (lib: Program, module: string, base: number, n: number): void => {
    for (const f of walk(rand, lib, 'f0', n, false)) {
      symbols.push(`${module}+0x${f.offset.toString(16)}`);
      addresses.push(`0x${(base + f.offset).toString(16).padStart(16, '0')}`);
      ids.push('');
    }
  };
  let appDepth = userDepth;
  if (proc.runtime === 'python') {
    const n = Math.floor((userDepth - 1) / 2);
    libFrames(python, 'python3.12', PYTHON_BASE, n);
    appDepth -= n;
  } else if (proc.runtime === 'java') {
    const n = Math.floor((userDepth - 1) / 3);
    libFrames(libjvm, 'libjvm.so', LIBJVM_BASE, n);
    appDepth -= n;
  } else if (proc.runtime === 'c') {
    const start = program.funcs[program.byName.get('_start') as number] as ProgramFunction;
    exeFrame({ name: start.name, offset: start.start + start.outSite });
    const libcAddr = (LIBC_BASE + LIBC_START_CALL_MAIN).toString(16);
    symbols.push(`0x${libcAddr}`);
    addresses.push(`0x${libcAddr.padStart(16, '0')}`);
    ids.push(`${LIBC_BUILD_ID} +${LIBC_START_CALL_MAIN.toString(16)}`);
    appDepth -= 2;
  }
  for (const f of walk(rand, program, m.root, appDepth, true)) exeFrame(f);
  symbols.reverse();
  addresses.reverse();
  ids.reverse();
  const otel = proc.runtime === 'python' || proc.runtime === 'java';
  const kernelIps = kernelFrames.length
    ? Array.from(
        { length: 1 + Math.floor(rand() * 3) },
        () => 18446744072005365000n + BigInt(Math.floor(rand() * 100000)),
      )
    : [0n];
  return {
    proc: procIndex,
    kern: kernelFrames.map((f) => `${f}; `).join(''),
    symbols: symbols.map((s) => `${s}; `).join(''),
    addresses: (otel ? addresses.slice(0, 3) : addresses).map((s) => `${s}; `).join(''),
    buildid: proc.runtime === 'c' ? ids.map((s) => `${s}; `).join('') : '',
    kernelIps,
  };
}

/** JSON-quoted strings; stack and container strings repeat on every row, so quoting them once saves most of the generation time. */
const quoted = new Map<string, string>();
const QUOTED_CACHE_LIMIT = 100_000;

function q(s: string): string {
  let out = quoted.get(s);
  if (out === undefined) {
    if (quoted.size >= QUOTED_CACHE_LIMIT) quoted.clear();
    out = JSON.stringify(s);
    quoted.set(s, out);
  }
  return out;
}

const digests = new Map<string, string>();

/** A stable fake image digest per container (the id reversed). */
function digestOf(containerId: string): string {
  let d = digests.get(containerId);
  if (d === undefined) {
    d = `sha256:${containerId.split('').reverse().join('')}`;
    digests.set(containerId, d);
  }
  return d;
}

function rowJson(
  stack: StackDef,
  proc: Proc,
  tidIndex: number,
  kernelIp: bigint,
  samples: number,
  bootTs: bigint,
): string {
  const tid = proc.tids[tidIndex] ?? proc.pid;
  const comm = proc.threadComms[tidIndex] ?? proc.comm;
  const c = proc.host
    ? {
        ns: '',
        pod: '',
        cname: '',
        cid: '',
        image: '',
        digest: '',
        runtime: '',
        labels: '',
        ownerKind: '',
        ownerName: '',
        node: proc.node,
        cpid: 0,
        started: 0n,
      }
    : {
        ns: proc.namespace,
        pod: proc.pod,
        cname: proc.container,
        cid: proc.containerId,
        image: proc.image,
        digest: digestOf(proc.containerId),
        runtime: 'containerd',
        labels: `app=${proc.app},pod-template-hash=${proc.hashSuffix}`,
        ownerKind: 'Deployment',
        ownerName: proc.app,
        node: proc.node,
        cpid: proc.pid,
        started: proc.startedAt,
      };
  const kernRaw = stack.kern ? 1000 + (stack.proc % 9000) : 4294967282;
  const ustackOn = stack.symbols !== '';
  return (
    `{"k8s":{"containerName":${q(c.cname)},"hostnetwork":false,"namespace":${q(c.ns)},"node":${q(c.node)},` +
    `"owner":{"kind":${q(c.ownerKind)},"name":${q(c.ownerName)}},"podLabels":${q(c.labels)},"podName":${q(c.pod)}},` +
    `"kern_stack":${q(stack.kern)},"kern_stack_raw":${kernRaw},"kernel_ip":${stack.kern ? kernelIp : 0n},` +
    `"proc":{"comm":${q(comm)},"creds":{"gid":65532,"group":"gid:65532","uid":65532,"user":"uid:65532"},"mntns_id":${proc.mntns},` +
    `"parent":{"comm":"containerd-shim","pid":${proc.pid - 20},"tid":${proc.pid - 20}},"pid":${proc.pid},"tid":${tid}},` +
    `"runtime":{"containerId":${q(c.cid)},"containerImageDigest":${q(c.digest)},"containerImageName":${q(c.image)},` +
    `"containerName":${q(c.cname)},"containerPid":${c.cpid},"containerStartedAt":${c.started},"runtimeName":${q(c.runtime)}},` +
    `"samples":${samples},"user_stack_raw":{"addresses":${q(stack.addresses)},"base_addr_hash":${ustackOn ? 2874913271 : 0},` +
    `"boot_timestamp":${ustackOn ? bootTs : 0n},"buildid":${q(stack.buildid)},"inode":${ustackOn ? 4718612 : 0},"major":0,"minor":${ustackOn ? 60 : 0},` +
    `"mtime_nsec":0,"mtime_sec":${ustackOn ? 1755771990 : 0},"otel_correlation_id":0,"pid_level0":${ustackOn ? tid : 0},` +
    `"pid_level1":${ustackOn ? 7 : 0},"pidns_level0":${ustackOn ? 4026531836 : 0},"pidns_level1":${ustackOn ? 4026532913 : 0},` +
    `"stack_id":${ustackOn ? 3000 + (stack.proc % 7000) : 0},"symbols":${q(stack.symbols)},"tgid_level0":${ustackOn ? proc.pid : 0}}}`
  );
}

/** One `-o json` line per fetch (a JSON array of rows). */
export function* generateCaptureLines(shape: CaptureShape): Generator<string> {
  for (const rows of generateCaptureFetches(shape)) yield `[${rows.join(',')}]`;
}

/**
 * The same capture as `generateCaptureLines`, one array of row JSON texts per fetch, so callers can
 * regroup rows into fetches of another size (`[${rows.join(',')}]` is the fetch's `-o json` line).
 */
export function* generateCaptureFetches(shape: CaptureShape): Generator<string[]> {
  const rand = mulberry32(shape.seed);
  const procs = buildProcesses(shape, rand);
  const stacks = buildStacks(shape, procs, rand);
  // Zipf-like popularity: weight 1/(rank+1)^1.1 over a shuffled stack order.
  const weights = stacks.map((_, i) => 1 / Math.pow(i + 1, 1.1));
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) cumulative.push((sum += w));
  const drawStack = (): StackDef => {
    const x = rand() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] ?? 0) < x) lo = mid + 1;
      else hi = mid;
    }
    return stacks[lo] as StackDef;
  };
  let bootTs = 3605123456789012n;
  for (let f = 0; f < shape.fetches; f++) {
    const rows: string[] = [];
    for (let r = 0; r < shape.rowsPerFetch; r++) {
      const stack = drawStack();
      const proc = procs[stack.proc] as Proc;
      const tidIndex = Math.floor(rand() * proc.tids.length);
      const kernelIp = stack.kernelIps[Math.floor(rand() * stack.kernelIps.length)] ?? 0n;
      const samples = 1 + Math.floor(Math.pow(rand(), 3) * 60);
      bootTs += 1_000_000n;
      rows.push(rowJson(stack, proc, tidIndex, kernelIp, samples, bootTs));
    }
    yield rows;
  }
}
