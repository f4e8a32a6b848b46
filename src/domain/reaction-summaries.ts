import type { ReactionSnapshot } from './room-events.js';
import type { Viewer } from './viewer.js';

/** One emoji's reactions to a message, as the viewer sees them. */
export interface ReactionSummary {
  emoji: string;
  count: number;
  reactedByMe: boolean;
}

/** The summaries `viewer` sees for a snapshot: the same as ReactionsService.summarize for the same rows. */
export function summarizeSnapshot(snapshot: ReactionSnapshot, viewer: Viewer | null): ReactionSummary[] {
  return snapshot.map(({ emoji, userIds }) => ({ emoji, count: userIds.length, reactedByMe: viewer !== null && userIds.includes(viewer.id) }));
}
