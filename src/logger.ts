import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/** JSON lines in production and whenever stdout is not a terminal; readable, coloured lines in a development terminal. */
export function createLogger(config: Pick<Config, 'nodeEnv' | 'logLevel'>): Logger {
  if (config.nodeEnv === 'production' || !process.stdout.isTTY) return pino({ level: config.logLevel });
  return pino({
    level: config.logLevel,
    transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
  });
}
