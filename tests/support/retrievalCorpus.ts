import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * A small labelled corpus: each document is about one thing, in its own words, and each query
 * uses words that only its document contains. The right document must rank first by BM25
 * alone, and must stay first when vector results (from whatever embedding model) are fused in.
 */
export const CORPUS: Readonly<Record<string, string>> = {
  'kitchen/sourdough.md': `# Sourdough starter

Feed the starter every day with equal weights of rye flour and water. A lively levain doubles
within six hours; when it smells of acetone it is hungry. Bake when the dough has risen by half.

## Hydration

A loaf at seventy-five percent hydration is easier to shape than a wetter ciabatta.`,
  'garage/bicycle.md': `# Fixing a flat tyre

Lever the tyre off the rim, pull out the inner tube and pump it up to find the puncture.
Roughen the rubber around the hole, spread the vulcanising solution, wait, and press the patch.
Check the tyre casing for the thorn before refitting.`,
  'garden/beekeeping.txt': `Beekeeping notes

Inspect the brood frames weekly in spring. Count varroa mites on the sticky board after an
oxalic acid treatment. Add a honey super when the queen has filled eight frames.`,
  'work/kubernetes.md': `# Deploying to the cluster

Apply the manifest with kubectl, then watch the rollout. A crashlooping pod usually means a
missing secret or a failing readiness probe; describe the pod to read its events.`,
  'home/boiler.txt': `Boiler manual

If the pressure gauge reads below one bar, open the filling loop slowly until the needle
reaches one and a half bar. Bleed the radiators afterwards; gurgling means trapped air.`,
  'travel/kyoto.md': `# Kyoto itinerary

Arrive at Fushimi Inari before dawn to walk the torii gates without crowds. In the afternoon
take the train to Arashiyama for the bamboo grove, then the monkey park above the river.`,
  'finance/mortgage.md': `# Mortgage comparison

The tracker rate follows the central bank base rate plus a margin; the fixed product locks
the rate for five years but charges an early repayment penalty of three percent.`,
  'code/parser.ts': `// Tokenizer for the configuration language.
export function tokenizeConfig(source: string): string[] {
  // Semicolons end statements; braces open blocks.
  return source.split(/([{};])/).map((part) => part.trim()).filter(Boolean);
}`,
  'notes/astronomy.txt': `Observing log

Saturn's rings were sharp at 150x magnification through the refractor. The Andromeda galaxy
showed its dust lane only with averted vision under a dark sky with no moon.`,
  'notes/chess.md': `# Chess openings

Against the Sicilian Defence, the Najdorf variation answers with a6. The Catalan fianchettoes
the light-squared bishop and pressures the long diagonal.`,
};

/** Each query and the one document that answers it. */
export const LABELLED_QUERIES: readonly { query: string; expected: string }[] = [
  { query: 'how often should I feed the rye levain', expected: 'kitchen/sourdough.md' },
  { query: 'vulcanising solution puncture inner tube', expected: 'garage/bicycle.md' },
  { query: 'varroa mites oxalic acid', expected: 'garden/beekeeping.txt' },
  { query: 'crashlooping pod readiness probe', expected: 'work/kubernetes.md' },
  { query: 'gauge needle radiators gurgling', expected: 'home/boiler.txt' },
  { query: 'Fushimi Inari torii gates', expected: 'travel/kyoto.md' },
  { query: 'tracker rate early repayment penalty', expected: 'finance/mortgage.md' },
  { query: 'tokenizeConfig semicolons braces', expected: 'code/parser.ts' },
  { query: "Saturn's rings refractor magnification", expected: 'notes/astronomy.txt' },
  { query: 'Najdorf Sicilian Catalan bishop', expected: 'notes/chess.md' },
];

export function writeCorpus(dir: string): void {
  for (const [name, text] of Object.entries(CORPUS)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
}
