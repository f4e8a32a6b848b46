// Parley as deployed: persistence, authentication, the grouped fan-out; configured by the environment.
import { startApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { announce, serveRunner } from './ipc.js';

const app = await startApp(loadConfig());
announce(app.port);
serveRunner(
  () => {
    const { subscriptions, counters } = app.stats();
    return { subscribers: subscriptions, events: counters.events, executions: counters.groupRenders };
  },
  () => app.stop(),
);
