/** Most distinct @names of one message that are looked up (the first ones in the body). */
export const MAX_MENTION_NAMES = 20;

/** An @name as written: a run of username characters after an `@`. */
const AT_NAME = /@([A-Za-z0-9_.-]+)/g;
/**
 * Before the `@`: a letter, digit or any username character makes it part of a word or an address
 * (`mail@bob.com`, `a.b@bob`); `/` makes it part of a path (`https://host/@bob`).
 */
const NOT_BEFORE = /[\p{L}\p{N}\p{M}_./@-]/u;
/** After the name: a letter or digit outside ASCII continues the word; `@` or `/` make it an address or a package scope (`@bob@host`, `@types/node`). */
const NOT_AFTER = /[\p{L}\p{N}\p{M}_/@]/u;
const USERNAME_MIN = 3;
const USERNAME_MAX = 32;

/**
 * One @name of a body: the usernames it may stand for, lowercased, longest first. The written run itself and, when
 * it ends in `.` or `-`, the run without them one by one (so `@bob.` at the end of a sentence still names `bob`,
 * unless a member is called `bob.`).
 */
export type MentionName = readonly string[];

/**
 * The @names of a message body, in order of first appearance, each once (ignoring case), at most
 * MAX_MENTION_NAMES. Word-bounded: `mail@bob.com`, `@bob@host`, `@types/node` and `@bobé` name nobody, while
 * `@bob,`, `(@bob)` and `@bob.` name `bob`. Empty when the body names nobody: such a body is a plain send.
 */
export function mentionNames(body: string): MentionName[] {
  const names: MentionName[] = [];
  const seen = new Set<string>();
  for (const match of body.matchAll(AT_NAME)) {
    const start = match.index;
    const end = start + match[0].length;
    if (start > 0 && NOT_BEFORE.test(body[start - 1]!)) continue;
    if (end < body.length && NOT_AFTER.test(String.fromCodePoint(body.codePointAt(end)!))) continue;
    const written = match[1]!.toLowerCase();
    if (seen.has(written)) continue;
    const usernames = withoutTrailingPunctuation(written).filter((name) => name.length >= USERNAME_MIN && name.length <= USERNAME_MAX);
    if (usernames.length === 0) continue;
    seen.add(written);
    names.push(usernames);
    if (names.length === MAX_MENTION_NAMES) break;
  }
  return names;
}

/** `bob.-` → [`bob.-`, `bob.`, `bob`]. */
function withoutTrailingPunctuation(run: string): string[] {
  const forms = [run];
  let form = run;
  while (form.endsWith('.') || form.endsWith('-')) {
    form = form.slice(0, -1);
    forms.push(form);
  }
  return forms;
}
