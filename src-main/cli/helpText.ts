const DATA_DIR = `  --data-dir DIR      Where Hearth keeps its library (default: $HEARTH_DATA_DIR, else the
                      OS app-data folder). The desktop app, the server and the CLI share it.`;
const INFERENCE = `  --gpu MODE          auto (default), off, cuda, vulkan or metal ($HEARTH_GPU)
  --threads N         CPU threads for inference (default: one per physical core)`;
const HELP = `  -h, --help          Show this help`;

/** Help for each command, keyed by the words that name it. */
export const helpText: Readonly<Record<string, string>> = {
  '': `hearth: personal, sovereign AI with local models

Usage: hearth <command> [options]

Commands:
  serve               Start the local server; open the printed URL in any browser
  chat                Ask a local model one question; the answer streams to the terminal
  models ...          Catalog, Hugging Face search, fit, pull, ls, info, add, import, rm,
                      default (hearth models --help)
  threads ls          List chats
  index PATH          Add a folder or file to a collection and index it (progress bar)
  search QUERY        Search your indexed documents (--json for ranked passages)
  collections ...     ls, create, rm: named sets of folders and files
  docs ls             Every file seen, with its status and why it was skipped or failed

Options:
  -h, --help          Show help (also: hearth <command> --help)
  -v, --version       Print the version

Every command takes --data-dir DIR. Logs go to stderr ($HEARTH_LOG=debug|info|warn|error|silent).`,

  serve: `Usage: hearth serve [options]

Starts the core and a local HTTP server on 127.0.0.1 with a random per-start token, and
prints one line: "Hearth is running at http://127.0.0.1:PORT/?token=TOKEN". Open it in a
browser for the same UI as the desktop app. Requests without the token are refused.
Stop with Ctrl+C (or SIGTERM).

Options:
  --port N            Port to listen on (default 0: a free port)
  --models-dir DIR    Also list the .gguf files of DIR (repeatable)
  --renderer-dir DIR  The built UI to serve (default: out/renderer)
${DATA_DIR}
${INFERENCE}
${HELP}`,

  chat: `Usage: hearth chat --model PATH [options] QUESTION

Loads the model, answers QUESTION and streams the reply to stdout. The chat is saved, so
it shows up in the app later.

Options:
  --model PATH        The GGUF model file (required); it is added to the library
  --system TEXT       System prompt for this chat
  --max-tokens N      Longest reply, in tokens (default: the app's setting)
  --context N         Context size in tokens (default: the app's setting, else automatic)
${DATA_DIR}
${INFERENCE}
${HELP}

Exit codes: 0 answered, 1 error (printed as "error CODE: message"), 2 bad usage,
130 interrupted.`,

  models: `Usage: hearth models <command> [options]

  catalog [--json]            The curated catalog: chat, embedding and reranking models
  search QUERY [--json]       Search Hugging Face for GGUF repositories
  files REPO [--json]         A repository's GGUF files, with how each fits this machine
  fit SOURCE [--json]         How a model would run here (GPU, partly offloaded, CPU, won't fit)
  pull SOURCE [--json]        Download a model (resumable, verified) into the library
  ls [--json]                 List the models in the library
  info ID [--json]            A model's metadata and fit
  add PATH [--json]           Add a GGUF file where it is
  import PATH --copy          Copy a GGUF file into Hearth's models folder
  rm ID                       Remove a model (deleting the file if Hearth's folder holds it)
  default ID [--for PURPOSE]  Make a model the default for chat, embedding or rerank

SOURCE is a catalog id (qwen2.5-1.5b-instruct, with :QUANT or --quant Q8_0), a Hugging
Face file (owner/repo/file.gguf) or a plain URL (a mirror, a file server on your LAN).
Run "hearth models <command> --help" for details.`,

  'models catalog': `Usage: hearth models catalog [--json] [options]

Lists the curated catalog shipped with Hearth. Sizes are approximate until the hub's
file listing is read; downloads are verified against the hub's published sha256.

Options:
  --json              Print the catalog as JSON
${DATA_DIR}
${HELP}`,

  'models search': `Usage: hearth models search QUERY [--limit N] [--json] [options]

Searches the Hugging Face hub (or the mirror in settings.hubEndpoint) for GGUF
repositories, most downloaded first.

Options:
  --limit N           At most N results (default 20)
  --json              Print the results as JSON
${DATA_DIR}
${HELP}`,

  'models files': `Usage: hearth models files OWNER/REPO [--json] [options]

Lists a repository's GGUF files with size, quantization and how each would run on this
machine (read from each file's header, not downloaded), and marks the one to choose.

Options:
  --json              Print the files as JSON
${DATA_DIR}
${HELP}`,

  'models fit': `Usage: hearth models fit SOURCE|ID|PATH [--quant Q] [--json] [options]

Says whether a model fits on the GPU, partly (N of M layers), on the CPU only, or not at
all, and the context size it allows, using node-llama-cpp's resolver on the file's header.

Options:
  --quant Q           For a catalog id: which quantization (default: the recommended one)
  --json              Print the result as JSON
${DATA_DIR}
${INFERENCE}
${HELP}`,

  'models pull': `Usage: hearth models pull SOURCE [--quant Q] [--sha256 HEX] [--json] [options]

Downloads a model as a resumable job with a progress bar: parallel connections, a free
space check first, the sha256 verified, then moved into the models folder and added to the
library. Ctrl+C pauses; running the same command again resumes.

Options:
  --quant Q           For a catalog id: which quantization (default: the recommended one)
  --sha256 HEX        For a plain URL: the sha256 the file must have
  --json              Print the result as JSON
${DATA_DIR}
${HELP}`,

  'models ls': `Usage: hearth models ls [--json] [options]

Lists the models in the library: files added by path plus every .gguf file in the data
directory's models/ folder and in each --models-dir.

Options:
  --json              Print the list as JSON
  --models-dir DIR    Also list the .gguf files of DIR (repeatable)
${DATA_DIR}
${HELP}`,

  'models info': `Usage: hearth models info ID [--json] [options]

Shows a model's metadata (architecture, parameters, quantization, context length, chat
template, kind) and how it fits this machine.

Options:
  --json              Print as JSON
${DATA_DIR}
${HELP}`,

  'models add': `Usage: hearth models add PATH [--json] [options]

Checks that PATH is a readable, complete GGUF model and adds it to the library where it is.

Options:
  --json              Print the added model as JSON
${DATA_DIR}
${HELP}`,

  'models import': `Usage: hearth models import PATH [--copy] [--json] [options]

Adds a GGUF file to the library. With --copy it is copied into Hearth's models folder
(and deleted with the model later); without, it is referenced where it is.

Options:
  --copy              Copy the file into the models folder
  --json              Print the added model as JSON
${DATA_DIR}
${HELP}`,

  'models rm': `Usage: hearth models rm ID [options]

Removes a model from the library. A file in Hearth's own models folder is deleted; a file
elsewhere (added by path or found in a --models-dir) is left where it is.

Options:
${DATA_DIR}
${HELP}`,

  'models default': `Usage: hearth models default ID [--for chat|embedding|rerank] [--clear] [options]

Makes the model the default for a purpose (chat by default). A chat message with no model
loaded loads the default chat model. --clear removes the default.

Options:
  --for PURPOSE       chat (default), embedding or rerank
  --clear             Remove the default for PURPOSE (ID is ignored)
${DATA_DIR}
${HELP}`,

  threads: `Usage: hearth threads ls [--json] [options]

Run "hearth threads ls --help" for details.`,

  'threads ls': `Usage: hearth threads ls [--json] [options]

Lists saved chats, most recently updated first.

Options:
  --json              Print the list as JSON
${DATA_DIR}
${HELP}`,

  index: `Usage: hearth index PATH [--collection NAME] [--json] [options]

Adds a folder (or one file) to a collection, creating the collection if needed, and indexes
it: files are parsed, chunked, embedded with the default embedding model and stored in the
local index. A progress bar shows files, chunks and time left. Running it again on the same
folder only reads what changed (unchanged files are recognised by size, time and content
hash, and nothing is embedded again). Ctrl+C pauses; the next run finishes the rest.
Every file that is not indexed is listed with the reason (empty, scanned PDF without text,
password-protected, unsupported type, unreadable, ...).

Options:
  -c, --collection NAME  The collection to add to (default: "Documents")
  --json              Print the collection, source, job and every document's status as JSON
${DATA_DIR}
${INFERENCE}
${HELP}`,

  search: `Usage: hearth search [--json] [options] QUERY

Hybrid search over your indexed documents: BM25 full-text and vector similarity, fused by
reciprocal rank fusion. Prints ranked passages with their file, page or lines, and score.

Options:
  --json              Ranked chunks as JSON: path, location, heading, score, text, ...
  -c, --collection NAME  Only this collection (repeatable)
  --type FORMAT       Only this format: markdown, text, pdf, docx, html, epub, csv, code (repeatable)
  --path PREFIX       Only files under this folder
  -n, --limit N       How many passages (default 10, at most 100)
  --mode MODE         hybrid (default), bm25 or vector
  --rerank            Rerank with the default reranker model
${DATA_DIR}
${INFERENCE}
${HELP}`,

  collections: `Usage: hearth collections ls|create|rm [options]

Run "hearth collections ls --help" for details.`,

  'collections ls': `Usage: hearth collections ls [--json] [options]

Lists collections with their counts of sources, documents and chunks.

Options:
  --json              Print the list (with each collection's sources) as JSON
${DATA_DIR}
${HELP}`,

  'collections create': `Usage: hearth collections create NAME [options]

Creates an empty collection. (hearth index PATH --collection NAME also creates it.)

Options:
  --json              Print the collection as JSON
${DATA_DIR}
${HELP}`,

  'collections rm': `Usage: hearth collections rm NAME [options]

Removes a collection and its chunks from the index. Your files are not touched.

Options:
  --json              Print null as JSON
${DATA_DIR}
${HELP}`,

  docs: `Usage: hearth docs ls [--status STATUS] [--json] [options]

Run "hearth docs ls --help" for details.`,

  'docs ls': `Usage: hearth docs ls [--status STATUS] [--json] [options]

Lists every file seen under your sources: indexed, pending, skipped or failed, and why.

Options:
  --status STATUS     Only pending, indexed, skipped or failed
  --json              Print the list as JSON
${DATA_DIR}
${HELP}`,
};
