export * from './api';
export * from './channels';
export * from './client';
export * from './dto';
export * from './errors';
export * from './limits';
export * from './names';
export * from './vocabulary';
