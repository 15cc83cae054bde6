/**
 * What the controller logs through. pino's Logger fits (the CLI passes one); the controller package
 * does not depend on pino itself, so this names only the calls it makes.
 */
export type LogFn = (objOrMsg: object | string, msg?: string) => void;

export interface ControllerLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}
