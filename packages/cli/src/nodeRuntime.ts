/**
 * The Node.js (V8) flags Samsa's own launchers start every `samsa node` process with: `samsa
 * cluster up`, `samsa chaos`, deploy/Dockerfile, the benchmarks in scripts/ and the multi-process
 * tests. This is the counterpart of the JVM options in Kafka's launch scripts (G1 with a pause
 * target, GC thread counts). Anyone starting `samsa node` by hand should pass them too:
 *
 *   node --initial-old-space-size=128 --v8-pool-size=1 packages/cli/dist/main.js node ...
 *
 * --initial-old-space-size=128: V8 then skips full (mark-compact) collections while the old
 * generation is under 128 MiB. A broker's live heap is 20-30 MiB, but under load it promotes a few
 * MiB/s of short-lived objects (fetch results and long polls that outlive two scavenges). With
 * V8's default sizing the next full GC was due at about 1.5x the live size, so a broker ran one
 * every ~0.5 s at 50,000 records/s, each stopping it for 5-25 ms, and every acks=all produce waits
 * on three brokers. With the floor a full GC comes every 30 s or more. Measured with
 * `node scripts/bench-replicated.mjs` (README): produce latency p95 17 → 6 ms, p99 31 → 15 ms. The
 * cost is memory: a busy broker's heap may grow to ~150 MiB before it is collected.
 *
 * --v8-pool-size=1: one V8 background thread per process (Node's default is 4) for concurrent
 * marking, parallel scavenges and background JIT compilation. A node's heap is tens of MiB, so
 * helper threads shorten its pauses little, while a cluster on one machine (six processes on a
 * laptop, in compose, in CI) ran 24 of them that wake together with every burst of work and take
 * the cores the event loops need. On the 2-vCPU reference machine, RF=3 acks=all at 50,000
 * records/s (two fresh clusters, 20 s each): produce p99 10.4 → 9.0 ms with the nodes alone on the
 * flag, end to end p99 14.5 → 11.5 ms; with the load generators on it too, produce p99 7 ms and end
 * to end 9-10 ms (the benchmarks start `samsa perf` with these flags). `--single-threaded`
 * (no helper at all) was worse: p99 17-22 ms, every GC then runs on the event loop.
 */
export const NODE_V8_FLAGS: readonly string[] = ['--initial-old-space-size=128', '--v8-pool-size=1'];
