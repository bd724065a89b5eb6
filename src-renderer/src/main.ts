import { mount } from 'svelte';
import App from './App.svelte';
import './styles/app.css';
import './styles/markdown.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target });
