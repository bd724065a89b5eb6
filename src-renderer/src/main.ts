import { mount } from 'svelte';
import App from './App.svelte';
import './styles/app.css';
import './styles/markdown.css';
import { applyTheme, readTheme } from './lib/util/theme';

// Before the first paint of the app, so a dark window never flashes light.
applyTheme(readTheme(), false);

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target });
