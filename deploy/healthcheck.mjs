#!/usr/bin/env node
// The container health check (deploy/Dockerfile HEALTHCHECK, deploy/docker-compose.yml): exits 0
// when this container's node serves. A broker must answer a Metadata call on its first listener
// (it answers UNAVAILABLE until it has registered, caught up and been unfenced); a controller
// alone must accept a connection on its controller port. Reads the same SAMSA_* variables as
// `samsa node`; a wildcard bind address is checked through 127.0.0.1.
import { connect } from 'node:net';
import { parseEndpoints } from '../packages/metadata/dist/index.js';
import { CHANNEL_OPTIONS, clientProto, grpc } from '../packages/protocol/dist/index.js';

const env = process.env;
const roles = (env.SAMSA_PROCESS_ROLES ?? 'broker').split(',').map((r) => r.trim());
const local = (host) => (host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host);
const fail = (why) => {
  console.error(`unhealthy: ${why}`);
  process.exit(1);
};
const timer = setTimeout(() => fail('no answer within 3 s'), 3000);

if (roles.includes('broker')) {
  const [first] = parseEndpoints(env.SAMSA_LISTENERS ?? '127.0.0.1:9092');
  const address = `${local(first.host)}:${first.port}`;
  const client = new (clientProto().samsa.v1.Samsa)(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  client.Metadata({ topics: [], allTopics: false }, { deadline: Date.now() + 2500 }, (err, res) => {
    client.close();
    clearTimeout(timer);
    if (err) fail(`Metadata on ${address}: ${err.details || err.message}`);
    console.log(`healthy: broker answers on ${address} (${res.brokers.length} brokers)`);
  });
} else {
  const voter = (env.SAMSA_CONTROLLER_QUORUM_VOTERS ?? '').split(',').find((v) => v.trim().startsWith(`${env.SAMSA_NODE_ID}@`));
  const listen = env.SAMSA_CONTROLLER_LISTEN ?? env.SAMSA_LISTENERS ?? voter?.slice(voter.indexOf('@') + 1);
  if (!listen) fail('no controller address (SAMSA_CONTROLLER_LISTEN or this node in SAMSA_CONTROLLER_QUORUM_VOTERS)');
  const m = /^(.*):(\d+)$/.exec(listen.trim());
  const socket = connect({ host: local(m[1]), port: Number(m[2]) });
  socket.once('connect', () => {
    clearTimeout(timer);
    socket.end();
    console.log(`healthy: controller accepts connections on ${listen}`);
  });
  socket.once('error', (err) => fail(`controller ${listen}: ${err.message}`));
}
