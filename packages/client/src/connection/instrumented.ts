/**
 * Request events for every connection of a Samsa client (KafkaJS's `network.request` and
 * `network.request_queue_size`): the factory's connections are wrapped so each RPC reports its
 * broker, name, duration and error code, and each connection its count of requests in flight.
 * Works for both transports (service Samsa and service Groups): any method but `close` is an RPC.
 */
import type { Clock } from '../clock.js';
import { SamsaError } from '../errors.js';
import type { ClientEvents, Instrumentation } from '../instrumentation.js';

export function instrumentedFactory<C extends { readonly address: string; close(): void }>(
  factory: (address: string) => C,
  bus: Instrumentation<ClientEvents>,
  clock: Clock,
  clientId: string,
  connected: { first: boolean },
): (address: string) => C {
  return (address) => {
    const connection = factory(address);
    let inFlight = 0;
    const queueSize = () => {
      if (bus.has('client.network.request_queue_size'))
        bus.emit('client.network.request_queue_size', { broker: address, clientId, queueSize: inFlight });
    };
    const wrappers = new Map<string, (...args: unknown[]) => unknown>();
    return new Proxy(connection, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof prop !== 'string' || prop === 'close' || typeof value !== 'function') return value;
        let wrapped = wrappers.get(prop);
        if (!wrapped) {
          const method = value as (...args: unknown[]) => Promise<unknown>;
          wrapped = (...args: unknown[]) => {
            const createdAt = clock.now();
            inFlight++;
            queueSize();
            const done = (errorCode: number | undefined) => {
              inFlight--;
              queueSize();
              if (errorCode === undefined && connected.first) {
                connected.first = false;
                bus.emit('client.connect', { broker: address });
              }
              if (bus.has('client.network.request'))
                bus.emit('client.network.request', {
                  broker: address,
                  apiName: prop,
                  clientId,
                  createdAt,
                  duration: clock.now() - createdAt,
                  ...(errorCode === undefined ? {} : { errorCode }),
                });
            };
            let result: Promise<unknown>;
            try {
              result = method.apply(target, args);
            } catch (error) {
              done(codeOf(error));
              throw error;
            }
            return result.then(
              (answer) => {
                done(undefined);
                return answer;
              },
              (error: unknown) => {
                done(codeOf(error));
                throw error;
              },
            );
          };
          wrappers.set(prop, wrapped);
        }
        return wrapped;
      },
    });
  };
}

/** UNKNOWN_SERVER_ERROR (-1) for a failure that carries no Kafka code. */
function codeOf(error: unknown): number {
  return error instanceof SamsaError ? error.code : -1;
}
