import './base.css';
import './jobsview.css';
