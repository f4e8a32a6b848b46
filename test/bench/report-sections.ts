/**
 * BENCHMARKS.md with a new report: the report's sections replace the file's, and sections the run did not produce
 * (a scenario run on its own, such as `--search-only`) are kept, in their place after the report's.
 */
export function withKeptSections(existing: string, report: string): string {
  const produced = new Set(headings(report));
  const kept = sections(existing).filter((section) => !produced.has(section.heading));
  return kept.length === 0 ? report : `${report.trimEnd()}\n\n${kept.map((section) => section.text.trimEnd()).join('\n\n')}\n`;
}

function headings(markdown: string): string[] {
  return sections(markdown).map((section) => section.heading);
}

/** The `## ` sections of a Markdown text, each with its heading line and body. */
function sections(markdown: string): { heading: string; text: string }[] {
  const parts = markdown.split(/^(?=## )/m).filter((part) => part.startsWith('## '));
  return parts.map((text) => ({ heading: text.slice(0, text.indexOf('\n')).trim(), text }));
}
