const DATA_DIR = `  --data-dir DIR      Where Hearth keeps its library (default: $HEARTH_DATA_DIR, else the
                      OS app-data folder). The desktop app, the server and the CLI share it.`;
const INFERENCE = `  --gpu MODE          auto (default), off, cuda, vulkan or metal ($HEARTH_GPU)
  --threads N         CPU threads for inference (default: one per physical core)`;
const HELP = `  -h, --help          Show this help`;
const PASSPHRASE = `  --passphrase-file F
                      The vault passphrase, read from file F (- for standard input; one
                      trailing newline is ignored). Else $HEARTH_VAULT_PASSPHRASE. Never an
                      argument value: other users can see those in \`ps\`.`;
const VAULT_EXIT = `Exit codes: 0 done, 1 error (printed as "error CODE: message", e.g. WRONG_PASSPHRASE,
VAULT_LOCKED, VAULT_NOT_SET_UP, TARGET_NOT_FOUND), 2 bad usage, 130 cancelled (Ctrl+C).`;

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
  vault ...           Encrypted backups under a wallet: init, snapshot, publish, restore,
                      targets (hearth vault --help)

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

  vault: `Usage: hearth vault <command> [options]

Encrypted, content-addressed backups of your library (chats, settings, index; optionally
models and source documents) under a wallet identity. Snapshots are sealed on this machine
and published as CAR files to a folder, an IPFS node or web3.storage; the 12-word recovery
phrase alone restores them anywhere.

  init [--remember]           Create the wallet; prints its address and recovery phrase
  import --phrase-file F      Bring an existing wallet (its recovery phrase) to this library
  status [--json]             State, address, schedule, last snapshot
  ls [--json]                 Snapshots (created, CID, files, size, new bytes, where
                              published) and targets
  unlock [--remember]         Check the passphrase; --remember keeps it so nothing asks again
  lock                        Forget a remembered passphrase
  phrase                      Show the recovery phrase again (needs the passphrase)
  target add|rm|ls            Where snapshots are published: folder DIR, kubo URL, w3up EMAIL
  snapshot [--publish T]      Take a snapshot (progress bar; Ctrl+C cancels); prints its CID
  publish [CID] --to T        Publish a snapshot (default: the latest) to a target
  restore --data-dir NEW ...  Restore a snapshot into a new data directory (resumable)
  schedule [options]          Automatic snapshots while the app or server runs

The passphrase (which unlocks the wallet stored in this library) comes from
--passphrase-file F or $HEARTH_VAULT_PASSPHRASE, never from an argument.
Run "hearth vault <command> --help" for details.`,

  'vault init': `Usage: hearth vault init [--remember] [--json] [options]

Creates the vault's wallet and stores it in the data directory, encrypted with your
passphrase. Prints the wallet address and the 12-word recovery phrase (stdout); the note
to write it down goes to stderr. The phrase is the only way to restore your backups on
another machine: write it down now.

Options:
  --remember          Keep the passphrase in the data directory's secret store, so
                      snapshots (and the scheduler in the app or server) need not ask
  --json              Print {"address", "phrase"} as JSON
${PASSPHRASE}
${DATA_DIR}
${HELP}

${VAULT_EXIT}`,

  'vault import': `Usage: hearth vault import --phrase-file F [--remember] [--json] [options]

Stores the wallet of an existing recovery phrase in this library, encrypted with the
passphrase, so this machine takes and publishes snapshots under the same identity.

Options:
  --phrase-file F     The 12-word recovery phrase, read from file F (- for standard input)
  --remember          Keep the passphrase in the data directory's secret store
  --json              Print the vault status as JSON
${PASSPHRASE}
${DATA_DIR}
${HELP}

${VAULT_EXIT}`,

  'vault status': `Usage: hearth vault status [--json] [options]

Shows the vault's state (none: no wallet yet; locked: a passphrase is needed; unlocked:
the passphrase is remembered), the wallet address, the schedule and the last snapshot.

Options:
  --json              Print the status as JSON
${DATA_DIR}
${HELP}`,

  'vault ls': `Usage: hearth vault ls [--json] [options]

Lists the snapshots this machine keeps, newest first (created, CID, files, size, the
encrypted bytes each added, the targets it was published to), then the targets.

Options:
  --json              Print {"snapshots": [...], "targets": [...]} as JSON
${DATA_DIR}
${HELP}`,

  'vault unlock': `Usage: hearth vault unlock [--remember] [--json] [options]

Checks the passphrase against the stored wallet. Each command unlocks on its own, so this
is useful with --remember: the passphrase is then kept in the data directory's secret store
(secrets.json, encrypted with a key kept beside it: a convenience, not a safe) and nothing
asks for it again until "hearth vault lock".

Options:
  --remember          Keep the passphrase
  --json              Print the vault status as JSON
${PASSPHRASE}
${DATA_DIR}
${HELP}

${VAULT_EXIT}`,

  'vault lock': `Usage: hearth vault lock [--json] [options]

Forgets a remembered passphrase: snapshots need it again. The wallet stays stored.

Options:
  --json              Print the vault status as JSON
${DATA_DIR}
${HELP}`,

  'vault phrase': `Usage: hearth vault phrase [--json] [options]

Prints the recovery phrase of the stored wallet, after checking the passphrase.

Options:
  --json              Print {"address", "phrase"} as JSON
${PASSPHRASE}
${DATA_DIR}
${HELP}

${VAULT_EXIT}`,

  'vault target': `Usage: hearth vault target add|rm|ls|uploads [options]

  add folder DIR [--name NAME]            A folder: a USB drive, a NAS share, a synced folder
  add kubo URL [--name NAME]              An IPFS node's RPC API, e.g. http://127.0.0.1:5001
  add w3up EMAIL [--space NAME] [--name NAME]
                                          web3.storage / Storacha (confirm the emailed link)
  rm ID                                   Forget a target (what it holds stays there)
  ls [--json]                             List the targets
  uploads ID [--json]                     What a web3.storage space or a folder holds (root CIDs)

Run "hearth vault target add --help" for details.`,

  'vault target add': `Usage: hearth vault target add folder DIR | kubo URL | w3up EMAIL [options]

Adds a place to publish snapshots to. Folder and IPFS-node targets also keep a sealed
"latest snapshot" record, so a restore from them needs only the recovery phrase; with
web3.storage a restore needs the snapshot's CID.

Options:
  --name NAME         A name to refer to it by (default: from its kind and location)
  --space NAME        w3up only: the space to use or create (default: "Hearth")
  --json              Print the target as JSON
${DATA_DIR}
${HELP}

${VAULT_EXIT}`,

  'vault target rm': `Usage: hearth vault target rm ID|NAME [--json] [options]

Forgets a target. Snapshots already published there are not deleted.

Options:
  --json              Print the removed target as JSON
${DATA_DIR}
${HELP}`,

  'vault target ls': `Usage: hearth vault target ls [--json] [options]

Lists the targets: id, kind, name, location.

Options:
  --json              Print the list as JSON
${DATA_DIR}
${HELP}`,

  'vault target uploads': `Usage: hearth vault target uploads ID|NAME [--json] [options]

Lists what a target holds by snapshot root CID, including what other machines published
there: a web3.storage space's uploads, or the CAR files in a folder. (For an IPFS node, ask
the node: ipfs pin ls.)

Options:
  --json              Print the list as JSON
${DATA_DIR}
${HELP}`,

  'vault snapshot': `Usage: hearth vault snapshot [--models] [--documents] [--publish TARGET] [--json] [options]

Takes an encrypted snapshot of the library as a job with a progress bar: the database and
the index are captured consistently (the app may keep running), split into chunks,
encrypted and signed; chunks an earlier snapshot has are not stored again. Prints the
snapshot's CID on stdout (a summary goes to stderr). Ctrl+C cancels.

Options:
  --models            Include downloaded models (large)
  --documents         Include the source documents of your collections
  --publish TARGET    Then publish it to TARGET (a target id or name)
  --json              Print the snapshot as JSON
${PASSPHRASE}
                      Not needed when the passphrase is remembered.
${DATA_DIR}
${HELP}

${VAULT_EXIT}`,

  'vault publish': `Usage: hearth vault publish [CID] --to TARGET [--json] [options]

Publishes a snapshot (default: the latest) to a target: one CAR file with only the blocks
the target does not have yet, then, for folders and IPFS nodes, the signed and sealed
"latest snapshot" record. Progress bar; Ctrl+C cancels.

Options:
  --to TARGET         A target id or name (hearth vault target ls)
  --json              Print the snapshot (with where it is published) as JSON
${PASSPHRASE}
                      Needed for targets that keep the latest-snapshot record, unless remembered.
${DATA_DIR}
${HELP}

${VAULT_EXIT}`,

  'vault restore': `Usage: hearth vault restore --data-dir NEW --phrase-file F
                           (--folder DIR | --kubo URL | --from GATEWAY_URL --cid CID)
                           [--cid CID] [--passphrase-file P] [--remember] [--json]

Restores a snapshot into the data directory NEW from the recovery phrase alone, on this
machine or a new one. Here --data-dir names the NEW directory to restore into, not the
library in use (and $HEARTH_DATA_DIR is not read): no library needs to exist. NEW should be
absent or empty; a folder that is not empty is never overwritten but renamed aside (the
path is printed).

Every block is checked against its CID, every chunk decrypted and authenticated, every file
against its sha256, the manifest's signature against the wallet and the row counts of every
table before NEW is moved into place. A phrase that does not open the snapshot fails with
WRONG_PASSPHRASE and writes nothing. Interrupted (Ctrl+C, network gone), run the same
command again: it resumes where it stopped.

Without --cid, the latest snapshot is found from the record a folder or IPFS node keeps
(a gateway has none: give --cid). With a passphrase (--passphrase-file or
$HEARTH_VAULT_PASSPHRASE), the wallet is then stored in NEW, so that library can keep
taking snapshots.

Options:
  --data-dir NEW      The directory to restore into (required)
  --phrase-file F     The 12-word recovery phrase, read from file F (- for standard input)
  --folder DIR        Restore from a folder target (a drive, a share)
  --kubo URL          Restore from an IPFS node's RPC API
  --from URL          Restore from an IPFS HTTP gateway (trustless, raw blocks)
  --cid CID           The snapshot to restore (default: the latest, from the target's record)
  --remember          With a passphrase: keep it in NEW's secret store
  --json              Print the result as JSON
${PASSPHRASE}
${HELP}

Exit codes: 0 restored, 1 error (printed as "error CODE: message", e.g. WRONG_PASSPHRASE,
INTEGRITY_ERROR, NOT_FOUND), 2 bad usage, 130 interrupted (run it again to resume).`,

  'vault schedule': `Usage: hearth vault schedule [--every HOURS | --manual] [--to TARGET|none] [--keep N]
                            [--models yes|no] [--documents yes|no] [--json] [options]

Shows or changes automatic snapshots. They run while the desktop app or "hearth serve"
runs and the vault is unlocked (remember the passphrase: hearth vault unlock --remember).

Options:
  --every HOURS       Take a snapshot every HOURS hours
  --manual            No automatic snapshots
  --to TARGET         Publish each one to TARGET (id or name); none: keep them here only
  --keep N            How many snapshots this machine keeps
  --models yes|no     Include downloaded models
  --documents yes|no  Include source documents
  --json              Print the schedule as JSON
${DATA_DIR}
${HELP}`,
};
