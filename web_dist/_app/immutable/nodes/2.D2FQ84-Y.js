import{_ as m}from"../chunks/B2EuQl1B.js";export{m as component};
