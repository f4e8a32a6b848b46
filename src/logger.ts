import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/** JSON lines in production; colourised, readable lines in development and test. */
export function createLogger(config: Pick<Config, 'nodeEnv' | 'logLevel'>): Logger {
  if (config.nodeEnv === 'production') return pino({ level: config.logLevel });
  return pino({
    level: config.logLevel,
    transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
  });
}
