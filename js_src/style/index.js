import './base.css';
import './jobpage.css';
import './schedules.css';
