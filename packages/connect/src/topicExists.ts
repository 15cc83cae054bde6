/**
 * Whether a createTopics failure says only that the topics exist already (another worker created
 * them first): decided by the error's class and code, never by its sentence.
 */
import { SamsaAggregateError, TopicAlreadyExistsError } from '@samsa/client';

export function onlyTopicsExist(err: unknown): boolean {
  if (err instanceof TopicAlreadyExistsError) return true;
  return err instanceof SamsaAggregateError && err.errors.length > 0 && err.errors.every((e) => e instanceof TopicAlreadyExistsError);
}
