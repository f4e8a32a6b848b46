/**
 * BENCHMARKS.md with a new report: the report's sections replace the file's, and sections the run did not produce
 * (a scenario run on its own, such as `--search-only`) are kept, in their place after the report's.
 */
export function withKeptSections(existing: string, report: string): string {
  const produced = new Set(headings(report));
  const kept = sections(existing).filter((section) => !produced.has(section.heading));
  return kept.length === 0 ? report : `${report.trimEnd()}\n\n${kept.map((section) => section.text.trimEnd()).join('\n\n')}\n`;
}

/**
 * BENCHMARKS.md with one section (a scenario run on its own, such as `--processes 2`): it replaces the section of the
 * same heading in place, or is added at the end; everything else is kept as it is.
 */
export function withSection(existing: string, section: string): string {
  const heading = section.slice(0, section.indexOf('\n')).trim();
  const parts = existing.split(/^(?=## )/m);
  const at = parts.findIndex((part) => part.startsWith('## ') && part.slice(0, part.indexOf('\n')).trim() === heading);
  if (at < 0) return `${existing.trimEnd()}\n\n${section.trimEnd()}\n`;
  parts[at] = `${section.trimEnd()}\n\n`;
  return `${parts.join('').trimEnd()}\n`;
}

function headings(markdown: string): string[] {
  return sections(markdown).map((section) => section.heading);
}

/** The `## ` sections of a Markdown text, each with its heading line and body. */
function sections(markdown: string): { heading: string; text: string }[] {
  const parts = markdown.split(/^(?=## )/m).filter((part) => part.startsWith('## '));
  return parts.map((text) => ({ heading: text.slice(0, text.indexOf('\n')).trim(), text }));
}
