throw new Error(
  "'electron' was imported in a test. Core code must run in plain Node: move the Electron-specific part to src-main/electron/.",
);
