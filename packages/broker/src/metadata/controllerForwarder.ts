/**
 * Admin calls a broker forwards to the active controller (Kafka's ForwardingManager, with the
 * broker-to-controller calls of AlterPartitionManager and the producer-id block manager): topic
 * create and delete, IncrementalAlterConfigs, ElectLeaders, DescribeQuorum, AlterPartition and
 * AllocateProducerIds, sent through the ControllerChannel (which follows NOT_CONTROLLER by
 * leader_id and leader_epoch and backs off while the quorum has no leader).
 *
 * Topic admin is answered only once this broker's own image (the metadata follower's) shows the
 * change, so a Metadata or Produce sent here right after sees it; REQUEST_TIMED_OUT when that takes
 * longer than the deadline. Nothing here throws: an unreachable quorum is an error result with a
 * retriable code (CONTROLLER_QUORUM_UNAVAILABLE, or REQUEST_TIMED_OUT when the outcome is unknown).
 */
import {
  TOPIC_CONFIG_KEYS,
  aclBindingKey,
  isReassigning,
  sameReplicaList,
  targetReplicas,
  validateBrokerConfigs,
  validateTopicConfigs,
  type AclBinding,
  type AclBindingFilter,
} from '@samsa/metadata';
import {
  ConfigOperation,
  ConfigResource,
  ErrorCode,
  errorInfo,
  groupByTopic,
  partitionsByTopic,
  topicPartitionKey,
  type DescribeQuorumResponse,
} from '@samsa/protocol';
import type { Logger } from 'pino';
import type { AlterPartitionItem, AlterPartitionItemResult } from '../replication/alterPartition.js';
import type { Timers } from '@samsa/server';
import {
  ControllerChannelClosedError,
  ControllerUnavailableError,
  errorText,
  verdictOf,
  verdictOfItems,
  type ControllerChannel,
} from './controllerChannel.js';
import type {
  AclCreateResult,
  AclDeleteResult,
  AlterConfigsRequest,
  AlterConfigsResult,
  CreatePartitionsItem,
  CreateTopicRequest,
  DeleteTopicResult,
  ElectLeadersResult,
  ReassignmentItem,
  ReassignmentResult,
  ProducerIdBlockResult,
  TopicInfo,
  TopicResult,
} from './image.js';
import { topicInfoOf } from './imageView.js';
import type { MetadataFollower } from './metadataFollower.js';

export interface ControllerForwarderOptions {
  brokerId: number;
  channel: ControllerChannel;
  follower: MetadataFollower;
  /** The current registration's epoch (the lifecycle manager's); undefined when not registered. */
  brokerEpoch: () => string | undefined;
  logger: Logger;
  timers: Timers;
  requestTimeoutMs: number;
  defaultApiTimeoutMs: number;
}

export class ControllerForwarder {
  private readonly channel: ControllerChannel;
  private readonly follower: MetadataFollower;
  private readonly timers: Timers;

  constructor(private readonly options: ControllerForwarderOptions) {
    this.channel = options.channel;
    this.follower = options.follower;
    this.timers = options.timers;
  }

  async createTopics(requests: CreateTopicRequest[], validateOnly: boolean, timeoutMs?: number): Promise<TopicResult[]> {
    if (requests.length === 0) return [];
    const deadline = this.deadline(timeoutMs);
    // Ids before the request: a name whose topic was deleted and re-created counts only with a new id.
    const idsBefore = new Map(requests.map((r) => [r.name, this.follower.metadataImage.topic(r.name)?.topicId]));
    let answer;
    try {
      answer = await this.channel.callActive(
        'CreateTopics',
        (remainingMs) => ({
          topics: requests.map((r) => ({
            name: r.name,
            numPartitions: r.numPartitions,
            replicationFactor: r.replicationFactor,
            configs: r.configs,
          })),
          timeoutMs: remainingMs,
          validateOnly,
        }),
        (res) => verdictOfItems(res, res.topics),
        deadline,
      );
    } catch (err) {
      return requests.map((r) => ({
        name: r.name,
        ...this.unavailable(err, `topic '${r.name}' was not created`, `topic '${r.name}' may or may not have been created`),
      }));
    }
    const results = requests.map((r, i) => matchResult(answer.topics, r.name, i));
    const createdHere = (name: string) => {
      const topic = this.follower.metadataImage.topic(name);
      return topic !== undefined && topic.topicId !== idsBefore.get(name);
    };
    const created = results.filter((r) => r?.errorCode === 0).map((r) => r!.name);
    if (!validateOnly && created.length > 0) {
      await this.follower.waitForImage(() => created.every(createdHere), deadline);
    }
    return requests.map((request, i): TopicResult => {
      const r = results[i];
      if (r === undefined) {
        return {
          name: request.name,
          errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
          errorMessage: `the controller's answer did not mention topic '${request.name}'`,
        };
      }
      if (r.errorCode !== 0)
        return { name: request.name, errorCode: r.errorCode, errorMessage: r.errorMessage || errorInfo(r.errorCode).message };
      if (validateOnly)
        return { name: request.name, errorCode: 0, topic: validatedTopic(request.name, r.numPartitions, r.replicationFactor, r.configs) };
      const topic = this.follower.metadataImage.topic(request.name);
      if (topic === undefined || !createdHere(request.name)) {
        return {
          name: request.name,
          errorCode: ErrorCode.REQUEST_TIMED_OUT,
          errorMessage:
            `the controller created topic '${request.name}', but broker ${this.options.brokerId} had not applied it to its metadata ` +
            `before the request timed out (applied offset ${this.follower.appliedOffset}); it will appear shortly`,
        };
      }
      return { name: request.name, errorCode: 0, topic: topicInfoOf(topic) };
    });
  }

  async deleteTopics(names: string[], timeoutMs?: number): Promise<DeleteTopicResult[]> {
    if (names.length === 0) return [];
    const deadline = this.deadline(timeoutMs);
    const idsBefore = new Map(names.map((n) => [n, this.follower.metadataImage.topic(n)?.topicId]));
    let answer;
    try {
      answer = await this.channel.callActive(
        'DeleteTopics',
        (remainingMs) => ({ names, timeoutMs: remainingMs }),
        (res) => verdictOfItems(res, res.topics),
        deadline,
      );
    } catch (err) {
      return names.map((name) => ({
        name,
        ...this.unavailable(err, `topic '${name}' was not deleted`, `topic '${name}' may or may not have been deleted`),
      }));
    }
    const results = names.map((name, i) => matchResult(answer.topics, name, i));
    const goneHere = (name: string) => {
      const before = idsBefore.get(name);
      return before === undefined || this.follower.metadataImage.topic(name)?.topicId !== before;
    };
    const deleted = results.filter((r) => r?.errorCode === 0).map((r) => r!.name);
    if (deleted.length > 0) await this.follower.waitForImage(() => deleted.every(goneHere), deadline);
    return names.map((name, i): DeleteTopicResult => {
      const r = results[i];
      if (r === undefined)
        return { name, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: `the controller's answer did not mention topic '${name}'` };
      if (r.errorCode !== 0) return { name, errorCode: r.errorCode, errorMessage: r.errorMessage || errorInfo(r.errorCode).message };
      if (!goneHere(name)) {
        return {
          name,
          errorCode: ErrorCode.REQUEST_TIMED_OUT,
          errorMessage:
            `the controller deleted topic '${name}', but broker ${this.options.brokerId} had not applied the deletion ` +
            `before the request timed out (applied offset ${this.follower.appliedOffset}); it will disappear shortly`,
        };
      }
      return { name, errorCode: 0 };
    });
  }

  /**
   * CreatePartitions, forwarded to the active controller; answered once this broker's image shows
   * each grown topic with at least its new count (REQUEST_TIMED_OUT otherwise).
   */
  async createPartitions(requests: CreatePartitionsItem[], validateOnly: boolean, timeoutMs?: number): Promise<DeleteTopicResult[]> {
    if (requests.length === 0) return [];
    const deadline = this.deadline(timeoutMs);
    let answer;
    try {
      answer = await this.channel.callActive(
        'CreatePartitions',
        (remainingMs) => ({ topics: requests.map((r) => ({ name: r.name, count: r.count })), timeoutMs: remainingMs, validateOnly }),
        (res) => verdictOfItems(res, res.results),
        deadline,
      );
    } catch (err) {
      return requests.map((r) => ({
        name: r.name,
        ...this.unavailable(err, `topic '${r.name}' was not grown`, `topic '${r.name}' may or may not have been grown`),
      }));
    }
    const results = requests.map((r, i) => matchResult(answer.results, r.name, i));
    const grownHere = (r: CreatePartitionsItem) => (this.follower.metadataImage.topic(r.name)?.partitions.length ?? 0) >= r.count;
    const grown = requests.filter((r, i) => results[i]?.errorCode === 0);
    if (!validateOnly && grown.length > 0) await this.follower.waitForImage(() => grown.every(grownHere), deadline);
    return requests.map((request, i): DeleteTopicResult => {
      const r = results[i];
      const { name } = request;
      if (r === undefined)
        return { name, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: `the controller's answer did not mention topic '${name}'` };
      if (r.errorCode !== 0) return { name, errorCode: r.errorCode, errorMessage: r.errorMessage || errorInfo(r.errorCode).message };
      if (!validateOnly && !grownHere(request)) {
        return {
          name,
          errorCode: ErrorCode.REQUEST_TIMED_OUT,
          errorMessage:
            `the controller added partitions to topic '${name}', but broker ${this.options.brokerId} had not applied them ` +
            `before the request timed out (applied offset ${this.follower.appliedOffset}); they will appear shortly`,
        };
      }
      return { name, errorCode: 0 };
    });
  }

  /**
   * ElectLeaders, forwarded to the active controller. Answers once this broker's image shows each
   * elected partition's new leader, so a Metadata request sent here right after sees it;
   * REQUEST_TIMED_OUT if that takes longer than the deadline.
   */
  async electLeaders(
    electionType: number,
    partitions: Array<{ topic: string; partition: number }>,
    timeoutMs?: number,
  ): Promise<ElectLeadersResult[]> {
    const deadline = this.deadline(timeoutMs);
    const topicPartitions = [...partitionsByTopic(partitions)].map(([topic, ps]) => ({ topic, partitions: ps }));
    let answer: ElectLeadersResult[];
    try {
      const res = await this.channel.callActive(
        'ElectLeaders',
        (remainingMs) => ({ electionType, topicPartitions, timeoutMs: remainingMs }),
        (r) => verdictOfItems(r, [r]),
        deadline,
      );
      if (res.errorCode !== 0) {
        return partitions.map((p) => ({
          ...p,
          errorCode: res.errorCode,
          errorMessage: res.errorMessage || errorInfo(res.errorCode).message,
        }));
      }
      answer = res.results.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.topic,
          partition: p.partition,
          errorCode: p.errorCode,
          errorMessage: p.errorCode === 0 ? '' : p.errorMessage || errorInfo(p.errorCode).message,
        })),
      );
    } catch (err) {
      return partitions.map((p) => ({
        ...p,
        ...this.unavailable(err, 'no leader was elected', 'leaders may or may not have been elected'),
      }));
    }
    const electedHere = (r: ElectLeadersResult) => {
      const p = this.follower.metadataImage.topic(r.topic)?.partitions[r.partition];
      // Deleted (or re-created) meanwhile: nothing left to wait for. PREFERRED (0) elected the
      // first replica; UNCLEAN elected whichever replica could lead.
      return p === undefined || (electionType === 0 ? p.leader === p.replicas[0] : p.leader >= 0);
    };
    const elected = answer.filter((r) => r.errorCode === 0);
    if (elected.length > 0) await this.follower.waitForImage(() => elected.every(electedHere), deadline);
    return answer.map((r) =>
      r.errorCode !== 0 || electedHere(r)
        ? r
        : {
            ...r,
            errorCode: ErrorCode.REQUEST_TIMED_OUT,
            errorMessage: `the controller elected a leader for ${r.topic}-${r.partition}, but broker ${this.options.brokerId} had not applied the change before the request timed out`,
          },
    );
  }

  /**
   * AlterPartitionReassignments (KIP-455), forwarded to the active controller. Answers once this
   * broker's image shows each accepted change (the target replicas now the partition's target, or
   * for a cancel no reassignment running), so a ListPartitionReassignments sent here right after
   * sees it; REQUEST_TIMED_OUT if that takes longer than the deadline.
   */
  async alterPartitionReassignments(items: ReassignmentItem[], timeoutMs?: number): Promise<ReassignmentResult[]> {
    if (items.length === 0) return [];
    const deadline = this.deadline(timeoutMs);
    const topics = [...groupByTopic(items)].map(([name, ps]) => ({
      name,
      partitions: ps.map((p) => ({ partition: p.partition, replicas: p.replicas ?? [], cancel: p.replicas === null })),
    }));
    let answer: ReassignmentResult[];
    try {
      const res = await this.channel.callActive(
        'AlterPartitionReassignments',
        (remainingMs) => ({ topics, timeoutMs: remainingMs }),
        (r) => verdictOfItems(r, [r, ...r.results.flatMap((t) => t.partitions)]),
        deadline,
      );
      if (res.errorCode !== 0) {
        const errorMessage = res.errorMessage || errorInfo(res.errorCode).message;
        return items.map((i) => ({ topic: i.topic, partition: i.partition, errorCode: res.errorCode, errorMessage }));
      }
      const byKey = new Map(res.results.flatMap((t) => t.partitions.map((p) => [topicPartitionKey(t.name, p.partition), p] as const)));
      answer = items.map((i) => {
        const r = byKey.get(topicPartitionKey(i.topic, i.partition));
        if (r === undefined)
          return {
            topic: i.topic,
            partition: i.partition,
            errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
            errorMessage: `the controller's answer did not mention ${i.topic}-${i.partition}`,
          };
        return {
          topic: i.topic,
          partition: i.partition,
          errorCode: r.errorCode,
          errorMessage: r.errorCode === 0 ? '' : r.errorMessage || errorInfo(r.errorCode).message,
        };
      });
    } catch (err) {
      return items.map((i) => ({
        topic: i.topic,
        partition: i.partition,
        ...this.unavailable(err, 'no reassignment was changed', 'the reassignment may or may not have been changed'),
      }));
    }
    const shownHere = (i: ReassignmentItem) => {
      const p = this.follower.metadataImage.topic(i.topic)?.partitions[i.partition];
      if (p === undefined) return true;
      if (i.replicas === null) return !isReassigning(p);
      return sameReplicaList(targetReplicas(p), i.replicas);
    };
    const accepted = items.filter((_, n) => answer[n]!.errorCode === 0);
    if (accepted.length > 0) await this.follower.waitForImage(() => accepted.every(shownHere), deadline);
    return answer.map((r, n) =>
      r.errorCode !== 0 || shownHere(items[n]!)
        ? r
        : {
            ...r,
            errorCode: ErrorCode.REQUEST_TIMED_OUT,
            errorMessage: `the controller changed the reassignment of ${r.topic}-${r.partition}, but broker ${this.options.brokerId} had not applied it before the request timed out`,
          },
    );
  }

  /**
   * IncrementalAlterConfigs, forwarded to the active controller (which validates the names and
   * values). Answers once this broker's image shows each altered topic's new configs, so a
   * DescribeConfigs or a produce sent here right after sees them; REQUEST_TIMED_OUT if that takes
   * longer than the deadline.
   */
  async incrementalAlterConfigs(
    resources: AlterConfigsRequest[],
    validateOnly: boolean,
    timeoutMs?: number,
  ): Promise<AlterConfigsResult[]> {
    if (resources.length === 0) return [];
    const deadline = this.deadline(timeoutMs);
    const refused = resources.map(unknownDeletedConfig);
    const forwarded = resources.filter((_, i) => refused[i] === undefined);
    let answer: AlterConfigsResult[] = [];
    if (forwarded.length > 0) {
      try {
        answer = (
          await this.channel.callActive(
            'IncrementalAlterConfigs',
            (remainingMs) => ({
              resources: forwarded.map((r) => ({
                resourceType: r.resourceType,
                resourceName: r.resourceName,
                configs: r.configs.map((c) => ({ name: c.name, configOperation: c.operation, value: c.value })),
              })),
              validateOnly,
              timeoutMs: remainingMs,
            }),
            (res) => verdictOfItems(res, res.responses),
            deadline,
          )
        ).responses;
      } catch (err) {
        return resources.map(
          (r, i) =>
            refused[i] ?? {
              resourceType: r.resourceType,
              resourceName: r.resourceName,
              ...this.unavailable(
                err,
                `the configs of '${r.resourceName}' were not changed`,
                `the configs of '${r.resourceName}' may or may not have been changed`,
              ),
            },
        );
      }
    }
    const results = resources.map((r, i) => refused[i] ?? matchResource(answer, r, forwarded.indexOf(r)));
    const altered = resources.filter(
      (r, i) =>
        !validateOnly &&
        (r.resourceType === ConfigResource.TOPIC || r.resourceType === ConfigResource.BROKER) &&
        results[i]?.errorCode === 0,
    );
    const appliedHere = (r: AlterConfigsRequest) => {
      if (r.resourceType === ConfigResource.BROKER) {
        const configs = this.follower.metadataImage.brokerConfigs(r.resourceName);
        return r.configs.every((c) =>
          c.operation === ConfigOperation.SET ? configs.get(c.name) === normalisedBrokerConfig(c.name, c.value) : !configs.has(c.name),
        );
      }
      const topic = this.follower.metadataImage.topic(r.resourceName);
      // Deleted (or re-created) meanwhile: nothing left to wait for.
      if (topic === undefined) return true;
      return r.configs.every((c) =>
        c.operation === ConfigOperation.SET
          ? topic.configs.get(c.name) === normalisedTopicConfig(c.name, c.value)
          : !topic.configs.has(c.name),
      );
    };
    if (altered.length > 0) await this.follower.waitForImage(() => altered.every(appliedHere), deadline);
    return resources.map((request, i): AlterConfigsResult => {
      const r = results[i];
      const base = { resourceType: request.resourceType, resourceName: request.resourceName };
      if (r === undefined)
        return {
          ...base,
          errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
          errorMessage: `the controller's answer did not mention '${request.resourceName}'`,
        };
      if (r.errorCode !== 0) return { ...base, errorCode: r.errorCode, errorMessage: r.errorMessage || errorInfo(r.errorCode).message };
      if (altered.includes(request) && !appliedHere(request)) {
        return {
          ...base,
          errorCode: ErrorCode.REQUEST_TIMED_OUT,
          errorMessage:
            `the controller changed the configs of topic '${request.resourceName}', but broker ${this.options.brokerId} had not applied ` +
            `the change before the request timed out (applied offset ${this.follower.appliedOffset}); it will take effect shortly`,
        };
      }
      return { ...base, errorCode: 0, errorMessage: '' };
    });
  }

  /**
   * CreateAcls, forwarded to the active controller (which validates). Answers once this broker's
   * image holds every created ACL, so the next request here is authorized by them.
   */
  async createAcls(creations: AclBinding[], timeoutMs?: number): Promise<AclCreateResult[]> {
    if (creations.length === 0) return [];
    const deadline = this.deadline(timeoutMs);
    let results: AclCreateResult[];
    try {
      const answer = await this.channel.callActive(
        'CreateAcls',
        () => ({ creations }),
        (res) => verdictOfItems(res, res.results),
        deadline,
      );
      results = creations.map((_, i) => {
        const r = answer.results[i];
        if (r === undefined)
          return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: "the controller's answer had too few results" };
        return { errorCode: r.errorCode, errorMessage: r.errorMessage };
      });
    } catch (err) {
      const failed = this.unavailable(err, 'the ACL was not created', 'the ACL may or may not have been created');
      return creations.map(() => failed);
    }
    const created = new Set(creations.filter((_, i) => results[i]!.errorCode === 0).map(aclBindingKey));
    const applied = () => {
      const here = new Set(this.follower.metadataImage.acls().map(aclBindingKey));
      return [...created].every((k) => here.has(k));
    };
    if (created.size > 0) await this.follower.waitForImage(applied, deadline);
    if (created.size > 0 && !applied()) {
      return results.map((r) =>
        r.errorCode !== 0
          ? r
          : {
              errorCode: ErrorCode.REQUEST_TIMED_OUT,
              errorMessage: `the controller created the ACLs, but broker ${this.options.brokerId} had not applied them before the request timed out`,
            },
      );
    }
    return results;
  }

  /** DeleteAcls, forwarded to the active controller; answers once this broker's image no longer holds the removed ACLs. */
  async deleteAcls(filters: AclBindingFilter[], timeoutMs?: number): Promise<AclDeleteResult[]> {
    if (filters.length === 0) return [];
    const deadline = this.deadline(timeoutMs);
    let results: AclDeleteResult[];
    try {
      const answer = await this.channel.callActive(
        'DeleteAcls',
        () => ({
          filters: filters.map((f) => ({
            ...f,
            resourceName: f.resourceName ?? '',
            principal: f.principal ?? '',
            host: f.host ?? '',
          })),
        }),
        (res) => verdictOfItems(res, res.filterResults),
        deadline,
      );
      results = filters.map((_, i) => {
        const r = answer.filterResults[i];
        if (r === undefined)
          return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: "the controller's answer had too few results", deleted: [] };
        return { errorCode: r.errorCode, errorMessage: r.errorMessage, deleted: r.matchingAcls.map((b) => ({ ...b })) };
      });
    } catch (err) {
      const failed = this.unavailable(err, 'no ACL was deleted', 'ACLs may or may not have been deleted');
      return filters.map(() => ({ ...failed, deleted: [] }));
    }
    const gone = new Set(results.flatMap((r) => r.deleted.map(aclBindingKey)));
    const applied = () => !this.follower.metadataImage.acls().some((a) => gone.has(aclBindingKey(a)));
    if (gone.size > 0) await this.follower.waitForImage(applied, deadline);
    if (gone.size > 0 && !applied()) {
      return results.map((r) =>
        r.errorCode !== 0
          ? r
          : {
              ...r,
              errorCode: ErrorCode.REQUEST_TIMED_OUT,
              errorMessage: `the controller deleted the ACLs, but broker ${this.options.brokerId} had not applied that before the request timed out`,
            },
      );
    }
    return results;
  }

  /**
   * AlterUserScramCredentials, forwarded to the active controller; answers once this broker's image
   * shows each changed user's credentials (an authentication here right after sees them).
   */
  async alterUserScramCredentials(request: ScramAlterations, timeoutMs?: number): Promise<ScramAlterResult[]> {
    const users = [...new Set([...request.deletions, ...request.upsertions].map((x) => x.name))];
    if (users.length === 0) return [];
    const deadline = this.deadline(timeoutMs);
    let answer: ScramAlterResult[];
    try {
      answer = (
        await this.channel.callActive(
          'AlterUserScramCredentials',
          (remainingMs) => ({ deletions: request.deletions, upsertions: request.upsertions, timeoutMs: remainingMs }),
          (res) => verdictOfItems(res, res.results),
          deadline,
        )
      ).results;
    } catch (err) {
      return users.map((user) => ({
        user,
        ...this.unavailable(
          err,
          `the credentials of '${user}' were not changed`,
          `the credentials of '${user}' may or may not have been changed`,
        ),
      }));
    }
    const image = () => this.follower.metadataImage;
    const appliedHere = (user: string) =>
      request.deletions.every((d) => d.name !== user || image().scramCredential(user, d.mechanism) === undefined) &&
      request.upsertions.every(
        (u) =>
          u.name !== user ||
          (image().scramCredential(user, u.mechanism)?.salt === u.salt.toString('base64') &&
            image().scramCredential(user, u.mechanism)?.iterations === u.iterations),
      );
    const changed = answer.filter((r) => r.errorCode === 0).map((r) => r.user);
    if (changed.length > 0) await this.follower.waitForImage(() => changed.every(appliedHere), deadline);
    return users.map((user) => {
      const r = answer.find((x) => x.user === user);
      if (r === undefined)
        return { user, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: `the controller's answer did not mention '${user}'` };
      if (r.errorCode !== 0) return { user, errorCode: r.errorCode, errorMessage: r.errorMessage || errorInfo(r.errorCode).message };
      if (!appliedHere(user))
        return {
          user,
          errorCode: ErrorCode.REQUEST_TIMED_OUT,
          errorMessage: `the controller changed the credentials of '${user}', but broker ${this.options.brokerId} had not applied the change before the request timed out; it will take effect shortly`,
        };
      return { user, errorCode: 0, errorMessage: '' };
    });
  }

  /** DescribeQuorum as the active controller answers it. */
  async describeQuorum(): Promise<DescribeQuorumResponse> {
    try {
      return await this.channel.callActive(
        'DescribeQuorum',
        () => ({}),
        (res) => verdictOf({ ...res, leaderEpoch: Number(res.leaderEpoch) }),
        this.deadline(this.options.requestTimeoutMs * 2),
      );
    } catch (err) {
      return {
        ...this.unavailable(err, 'no active controller answered', 'the active controller did not answer'),
        leaderId: -1,
        voters: [],
      };
    }
  }

  /**
   * AlterPartition for the replica manager (ISR changes this broker proposes as leader), sent to
   * the active controller with this broker's epoch; one result per item, in order. Never throws:
   * an unreachable quorum is an error result the partition retries after its backoff.
   */
  async alterPartition(items: readonly AlterPartitionItem[]): Promise<AlterPartitionItemResult[]> {
    if (items.length === 0) return [];
    const brokerEpoch = this.options.brokerEpoch();
    if (brokerEpoch === undefined) {
      return items.map(() => ({
        errorCode: ErrorCode.STALE_BROKER_EPOCH,
        errorMessage: `broker ${this.options.brokerId} is not registered`,
      }));
    }
    const topics = groupByTopic(items);
    let res;
    try {
      res = await this.channel.callActive(
        'AlterPartition',
        () => ({
          brokerId: this.options.brokerId,
          brokerEpoch,
          topics: [...topics].map(([name, list]) => ({
            name,
            partitions: list.map((i) => ({
              partition: i.partition,
              leaderEpoch: i.leaderEpoch,
              partitionEpoch: i.partitionEpoch,
              newIsr: [...i.newIsr],
            })),
          })),
        }),
        verdictOf,
        this.deadline(this.options.requestTimeoutMs),
      );
    } catch (err) {
      const failure = this.unavailable(err, 'the ISR change was not sent', 'the ISR change may or may not have been committed');
      return items.map(() => failure);
    }
    return items.map((item): AlterPartitionItemResult => {
      const r = res.topics.find((t) => t.name === item.topic)?.partitions.find((p) => p.partition === item.partition);
      if (r === undefined) {
        return res.errorCode !== ErrorCode.NONE
          ? { errorCode: res.errorCode, errorMessage: res.errorMessage }
          : {
              errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
              errorMessage: `the controller's answer did not mention ${item.topic}-${item.partition}`,
            };
      }
      if (r.errorCode !== ErrorCode.NONE) return { errorCode: r.errorCode, errorMessage: r.errorMessage || errorInfo(r.errorCode).message };
      if (res.errorCode !== ErrorCode.NONE) return { errorCode: res.errorCode, errorMessage: res.errorMessage };
      return { errorCode: 0, leaderId: r.leaderId, leaderEpoch: r.leaderEpoch, partitionEpoch: r.partitionEpoch, isr: [...r.isr] };
    });
  }

  /**
   * AllocateProducerIds for the broker's ProducerIdManager: a block of ids from the active
   * controller, which records it in the metadata log before answering (so no id is handed out
   * twice, even across a controller failover). Never throws.
   */
  async allocateProducerIds(): Promise<ProducerIdBlockResult> {
    const brokerEpoch = this.options.brokerEpoch();
    if (brokerEpoch === undefined) {
      return {
        errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        errorMessage: `broker ${this.options.brokerId} is not registered yet`,
        start: -1n,
        length: 0,
      };
    }
    try {
      const res = await this.channel.callActive(
        'AllocateProducerIds',
        () => ({ brokerId: this.options.brokerId, brokerEpoch }),
        verdictOf,
        this.deadline(this.options.requestTimeoutMs),
      );
      if (res.errorCode !== ErrorCode.NONE) return { errorCode: res.errorCode, errorMessage: res.errorMessage, start: -1n, length: 0 };
      return { errorCode: ErrorCode.NONE, errorMessage: '', start: BigInt(res.producerIdStart), length: res.producerIdLen };
    } catch (err) {
      return {
        ...this.unavailable(err, 'no producer ids were allocated', 'producer ids may or may not have been allocated'),
        start: -1n,
        length: 0,
      };
    }
  }

  private deadline(timeoutMs: number | undefined): number {
    return this.timers.now() + (timeoutMs !== undefined && timeoutMs > 0 ? timeoutMs : this.options.defaultApiTimeoutMs);
  }

  private unavailable(err: unknown, notDone: string, unsure: string): { errorCode: number; errorMessage: string } {
    if (err instanceof ControllerUnavailableError) {
      return { errorCode: err.code, errorMessage: `${err.code === ErrorCode.REQUEST_TIMED_OUT ? unsure : notDone}: ${err.message}` };
    }
    if (err instanceof ControllerChannelClosedError) {
      return { errorCode: ErrorCode.BROKER_NOT_AVAILABLE, errorMessage: `${notDone}: broker ${this.options.brokerId} is shutting down` };
    }
    this.options.logger.error({ err }, 'unexpected error talking to the controller');
    return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: `${unsure}: ${errorText(err)}` };
  }
}

/** The items of an AlterUserScramCredentials request (SaltedPassword, never a password). */
export interface ScramAlterations {
  deletions: Array<{ name: string; mechanism: string }>;
  upsertions: Array<{ name: string; mechanism: string; iterations: number; salt: Buffer; saltedPassword: Buffer }>;
}

export interface ScramAlterResult {
  user: string;
  errorCode: number;
  errorMessage: string;
}

function matchResult<T extends { name: string }>(results: readonly T[], name: string, index: number): T | undefined {
  return results[index]?.name === name ? results[index] : results.find((r) => r.name === name);
}

/**
 * A delete of a name that is no topic config is refused here with INVALID_CONFIG: the controller
 * ignores deletes of names that are not set, so a typo would otherwise pass silently.
 */
function unknownDeletedConfig(r: AlterConfigsRequest): AlterConfigsResult | undefined {
  if (r.resourceType !== ConfigResource.TOPIC) return undefined;
  const unknown = r.configs
    .filter((c) => c.operation === ConfigOperation.DELETE && !(TOPIC_CONFIG_KEYS as string[]).includes(c.name))
    .map((c) => c.name);
  if (unknown.length === 0) return undefined;
  return {
    resourceType: r.resourceType,
    resourceName: r.resourceName,
    errorCode: ErrorCode.INVALID_CONFIG,
    errorMessage: `unknown topic config(s) ${unknown.map((n) => `'${n}'`).join(', ')} (known: ${TOPIC_CONFIG_KEYS.join(', ')})`,
  };
}

function normalisedBrokerConfig(name: string, value: string): string {
  try {
    return validateBrokerConfigs({ [name]: value })[name] ?? value;
  } catch {
    return value;
  }
}

/** The value as the controller stores it (validateTopicConfigs normalises, e.g. 'TRUE' → 'true'). */
function normalisedTopicConfig(name: string, value: string): string {
  try {
    return validateTopicConfigs({ [name]: value })[name] ?? value;
  } catch {
    return value;
  }
}

function matchResource(results: readonly AlterConfigsResult[], r: AlterConfigsRequest, index: number): AlterConfigsResult | undefined {
  const same = (x: AlterConfigsResult | undefined) =>
    x !== undefined && x.resourceName === r.resourceName && x.resourceType === r.resourceType;
  return same(results[index]) ? results[index] : results.find(same);
}

/** validate_only creates nothing: a TopicInfo shaped from the controller's answer (no id, no leaders yet). */
function validatedTopic(name: string, numPartitions: number, replicationFactor: number, configs: Record<string, string>): TopicInfo {
  return {
    name,
    topicId: '',
    configs,
    isInternal: name.startsWith('__'),
    partitions: Array.from({ length: numPartitions }, (_, partition) => ({
      partition,
      leader: -1,
      leaderEpoch: -1,
      partitionEpoch: -1,
      replicas: Array<number>(replicationFactor).fill(-1),
      isr: [],
    })),
  };
}
