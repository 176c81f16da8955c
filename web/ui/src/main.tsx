import { render } from 'preact';
import './styles.css';
import { App } from './App';
import { loadSession } from './session';

// Ask for the session before the first render: one round trip less to the
// first data on the Now page.
void loadSession();
render(<App />, document.getElementById('app') as HTMLElement);
