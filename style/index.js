import './base.css';
import './models.css';
import './lineage.css';
import './traceview.css';
import '../js/widgets.css';
