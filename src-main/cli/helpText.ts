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
  models ls           List the models in the library
  models add PATH     Add a GGUF model file to the library
  models rm ID        Remove a model from the library
  threads ls          List chats

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

  models: `Usage: hearth models <ls|add|rm> [options]

  ls [--json]         List the models in the library
  add PATH [--json]   Check a GGUF model file and add it to the library
  rm ID               Remove a model from the library

Run "hearth models <command> --help" for details.`,

  'models ls': `Usage: hearth models ls [--json] [options]

Lists the models in the library: files added by path plus every .gguf file in the data
directory's models/ folder and in each --models-dir.

Options:
  --json              Print the list as JSON
  --models-dir DIR    Also list the .gguf files of DIR (repeatable)
${DATA_DIR}
${HELP}`,

  'models add': `Usage: hearth models add PATH [--json] [options]

Checks that PATH is a readable, complete GGUF model and adds it to the library.

Options:
  --json              Print the added model as JSON
${DATA_DIR}
${HELP}`,

  'models rm': `Usage: hearth models rm ID [options]

Removes a model from the library. The file itself is kept; a file inside a models folder
is listed again the next time the library is read.

Options:
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
};
