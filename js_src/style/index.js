import './base.css';
import './jobpage.css';
import './schedules.css';
import './customjob.css';
import './jobsview.css';
import './sweeps.css';
