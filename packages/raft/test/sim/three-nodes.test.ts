// Seeded simulation runs of a 3-node cluster (see seeds.ts for the RAFT_* replay knobs).
import { describeSeeds } from './seeds.js';

describeSeeds(3);
