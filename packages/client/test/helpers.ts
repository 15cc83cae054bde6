import { Samsa, seededRandom } from '../src/index.js';
import type { SamsaConfig } from '../src/index.js';
import { FakeClock, FakeCluster } from './fakes.js';

/** A client wired to a fake cluster, fake clock and seeded RNG. */
export function setup(brokerIds: number[] = [1, 2], config: Partial<SamsaConfig> = {}) {
  const fake = new FakeCluster(brokerIds);
  const clock = new FakeClock();
  fake.clock = clock;
  const samsa = new Samsa({
    brokers: [fake.addressOf(brokerIds[0]!)],
    connectionFactory: fake.connectionFactory,
    clock,
    random: seededRandom(1),
    retry: { retries: 5, initialRetryTimeMs: 10, jitter: 0 },
    ...config,
  });
  return { fake, clock, samsa };
}
